// SignaturesFunction: employees' electronic signatures (create, sign,
// renew, audit) and the public CA certificate and CRL. app.Run, not
// app.Main, so that it links only its own use cases; app.KMS gives it the
// KMS client, which no other function links.
package main

import "github.com/kabinet/kabinet/shared/app"

func main() { app.Run(app.SignaturesFn(), app.KMS) }
