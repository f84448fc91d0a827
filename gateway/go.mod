module chirp/gateway

go 1.26.0

require (
	chirp/contract v0.0.0
	github.com/gorilla/websocket v1.5.3
	github.com/nats-io/nats.go v1.56.0
)

require (
	github.com/klauspost/compress v1.20.4 // indirect
	github.com/nats-io/nkeys v0.4.17 // indirect
	github.com/nats-io/nuid v1.0.1 // indirect
	github.com/prometheus/client_golang v1.25.0 // indirect
	golang.org/x/crypto v0.58.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
)

replace (
	chirp/contract => ../contract
	chirp/natskit => ../natskit
)
