package gateway

import (
	"errors"

	"github.com/nats-io/nats.go"
)

// Ready says whether the gateway should be sent new clients: nil once
// Start has run, while its NATS connection is up and until Shutdown
// begins; otherwise the reason. It does not ask the services: a gateway
// whose services are slow still answers, with unavailable.
func (g *Gateway) Ready() error {
	switch {
	case !g.started:
		return errors.New("gateway not started")
	case g.life.shuttingDown():
		return errors.New("gateway shutting down")
	case g.nc.Status() != nats.CONNECTED:
		return errors.New("nats " + g.nc.Status().String())
	}
	return nil
}
