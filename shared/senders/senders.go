// Package senders delivers notifications through Amazon SNS (SMS) and Amazon
// SES v2 (e-mail), classifying provider errors as permanent or retryable.
package senders

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/kabinet/kabinet/shared/notify"
	"github.com/kabinet/kabinet/shared/platform"
)

// SNSAPI is the part of the SNS client used.
type SNSAPI interface {
	Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// SESAPI is the part of the SES v2 client used.
type SESAPI interface {
	SendEmail(ctx context.Context, in *sesv2.SendEmailInput, optFns ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error)
}

// Sender sends SMS with SNS and e-mail with SES.
type Sender struct {
	SNS  SNSAPI
	SES  SESAPI
	From string // e-mail sender address, verified in SES
}

var _ notify.Sender = (*Sender)(nil)

// SendSMS publishes a transactional SMS (codes must not be dropped as
// promotional traffic).
func (s *Sender) SendSMS(ctx context.Context, to, text string) (string, error) {
	out, err := s.SNS.Publish(ctx, &sns.PublishInput{
		PhoneNumber: aws.String(to),
		Message:     aws.String(text),
		MessageAttributes: map[string]snstypes.MessageAttributeValue{
			"AWS.SNS.SMS.SMSType": {DataType: aws.String("String"), StringValue: aws.String("Transactional")},
		},
	})
	countSend(ctx, "SMS", err)
	if err != nil {
		return "", classify(err)
	}
	return aws.ToString(out.MessageId), nil
}

// SendEmail sends a text and HTML e-mail in UTF-8.
func (s *Sender) SendEmail(ctx context.Context, to, subject, text, html string) (string, error) {
	body := &sestypes.Body{Text: &sestypes.Content{Data: aws.String(text), Charset: aws.String("UTF-8")}}
	if html != "" {
		body.Html = &sestypes.Content{Data: aws.String(html), Charset: aws.String("UTF-8")}
	}
	out, err := s.SES.SendEmail(ctx, &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(s.From),
		Destination:      &sestypes.Destination{ToAddresses: []string{to}},
		Content: &sestypes.EmailContent{Simple: &sestypes.Message{
			Subject: &sestypes.Content{Data: aws.String(subject), Charset: aws.String("UTF-8")},
			Body:    body,
		}},
	})
	countSend(ctx, "Emails", err)
	if err != nil {
		return "", classify(err)
	}
	return aws.ToString(out.MessageId), nil
}

// countSend counts one provider call of a channel ("SMS", "Emails") as
// <channel>Sent or <channel>Failed; the dashboard and the runbooks read them.
func countSend(ctx context.Context, channel string, err error) {
	if err != nil {
		platform.Count(ctx, channel+"Failed", 1)
		return
	}
	platform.Count(ctx, channel+"Sent", 1)
}

// classify marks failures that retrying cannot fix as notify.ErrPermanent:
// a bad number or address, a rejected message, an opted-out phone.
func classify(err error) error {
	var (
		snsInvalid  *snstypes.InvalidParameterException
		snsInvalidV *snstypes.InvalidParameterValueException
		sesBad      *sestypes.BadRequestException
		sesRejected *sestypes.MessageRejected
	)
	switch {
	case errors.As(err, &snsInvalid), errors.As(err, &snsInvalidV),
		errors.As(err, &sesBad), errors.As(err, &sesRejected):
		return fmt.Errorf("%w: %v", notify.ErrPermanent, err)
	}
	return err
}
