// Command hello is the smallest Go Lambda function: the baseline that every
// function's binary size and cold start are compared against. It is built
// exactly like the functions (see infra/bench).
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
)

func handle(context.Context) (string, error) {
	return "hello", nil
}

func main() {
	lambda.Start(handle)
}
