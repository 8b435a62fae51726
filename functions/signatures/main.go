// SignaturesFunction: employees' electronic signatures (create, sign,
// renew, audit) and the public CA certificate and CRL. app.Run, not
// app.Main, so that it links only its own use cases.
package main

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/kabinet/kabinet/shared/app"
	"github.com/kabinet/kabinet/shared/kmsca"
	"github.com/kabinet/kabinet/shared/platform"
	"github.com/kabinet/kabinet/shared/secrets/awssecrets"
)

// Only this function builds the KMS client: the data keys of sealed keys,
// and the CA's signer, made on first use (no KMS call at init).
func main() {
	app.Run(app.SignaturesFn(), app.Secrets(awssecrets.New), func(cfg aws.Config, d *app.Deps) {
		c := kms.NewFromConfig(cfg)
		dk, err := kmsca.NewDataKeys(c, d.Config.SignatureDataKeyID)
		if err != nil {
			platform.Fatal("signature data keys", err)
		}
		d.DataKeys, d.CASigner = dk, kmsca.NewLazySigner(c, d.Config.SignatureCAKeyID).For
	})
}
