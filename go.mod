module github.com/s1copilot/s1copilot

go 1.26.8

require (
	github.com/coder/websocket v1.8.15 // indirect
	github.com/kelseyhightower/envconfig v1.4.0 // indirect
	github.com/openai/openai-go/v3 v3.96.0 // indirect
	github.com/stretchr/testify v1.12.1 // indirect
	github.com/tidwall/gjson v1.20.0 // indirect
	github.com/tidwall/match v1.1.1 // indirect
	github.com/tidwall/pretty v1.2.1 // indirect
	github.com/tidwall/sjson v1.2.5 // indirect
	go.temporal.io/sdk v1.50.0 // indirect
	go.uber.org/multierr v1.10.0 // indirect
	go.uber.org/zap v1.28.0 // indirect
	go.uber.org/zap/exp v0.3.0 // indirect
	golang.org/x/time v0.16.0 // indirect
)
