package moto

import (
	"sort"
	"strings"
)

// Service is an AWS service the code calls, by the id the SDK derives its
// endpoint variable from (AWS_ENDPOINT_URL_<ID upper-cased, spaces as _>).
type Service struct {
	// SDKID is the SDK's ServiceID, e.g. "Secrets Manager".
	SDKID string
}

// EnvVar is the SDK's standard variable that names this service's endpoint.
func (s Service) EnvVar() string {
	return "AWS_ENDPOINT_URL_" + strings.ReplaceAll(strings.ToUpper(s.SDKID), " ", "_")
}

// Services are every AWS service the functions and the tests call.
var Services = []Service{{"DynamoDB"}, {"SQS"}, {"SNS"}, {"SESv2"}, {"Secrets Manager"}, {"KMS"}}

// Endpoints is where each service is reached: an endpoint the environment
// gives, or moto.
type Endpoints struct {
	// Given maps the services with an endpoint from the environment (their
	// own AWS_ENDPOINT_URL_<ID>, else the shared AWS_ENDPOINT_URL) to it.
	Given map[string]string
	// Moto lists the services no variable names: moto must serve them.
	Moto []string
}

// NeedsMoto reports whether any service is left to moto.
func (e Endpoints) NeedsMoto() bool { return len(e.Moto) > 0 }

// External reports whether any service has an endpoint of its own (not
// moto's): credentials and region then come from the environment as well.
func (e Endpoints) External() bool { return len(e.Given) > 0 }

// OnMoto reports whether the service is served by the moto this process starts.
func (e Endpoints) OnMoto(sdkID string) bool {
	for _, s := range e.Moto {
		if s == sdkID {
			return true
		}
	}
	return false
}

// SelectEndpoints decides, with the SDK's own precedence, which services
// reach an endpoint the environment names and which moto must serve:
// AWS_ENDPOINT_URL_<ID> first, then AWS_ENDPOINT_URL, else moto. So a
// DynamoDB- or SQS-compatible service is tried by configuration alone, e.g.
// AWS_ENDPOINT_URL_DYNAMODB=https://docapi.serverless.yandexcloud.net/...
// with moto still serving SNS, SES, Secrets Manager and KMS. getenv is
// os.Getenv outside tests.
func SelectEndpoints(getenv func(string) string) Endpoints {
	e := Endpoints{Given: map[string]string{}}
	shared := strings.TrimSpace(getenv("AWS_ENDPOINT_URL"))
	for _, s := range Services {
		switch own := strings.TrimSpace(getenv(s.EnvVar())); {
		case own != "":
			e.Given[s.SDKID] = own
		case shared != "":
			e.Given[s.SDKID] = shared
		default:
			e.Moto = append(e.Moto, s.SDKID)
		}
	}
	sort.Strings(e.Moto)
	return e
}
