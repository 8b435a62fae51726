// NotifierFunction: sends the notifications queue's messages by SMS and e-mail.
package main

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/kabinet/kabinet/shared/app"
	"github.com/kabinet/kabinet/shared/senders"
)

// Only this function builds the SNS and SES clients.
func main() {
	app.Main("NotifierFunction", func(cfg aws.Config, d *app.Deps) {
		d.Sender = &senders.Sender{SNS: sns.NewFromConfig(cfg), SES: sesv2.NewFromConfig(cfg), From: d.Config.SenderEmail}
	})
}
