package gateway

import (
	"encoding/json"
	"log/slog"
	"slices"
	"strconv"
	"strings"

	"chirp/contract"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// hub is the registry of connections. One goroutine (run) owns all of its
// state, so nothing in it is locked: clients, which accounts have sockets
// here, and the push subscription of each such account.
//
// Order on attach: the account's push subscription is made before its
// presence is published, so no push the feed service sends after seeing
// the presence can be missed.
type hub struct {
	nc      *nats.Conn
	js      jetstream.JetStream
	gateway string
	inbox   string // prefix of reply subjects: <inbox>.<client>.<n>
	log     *slog.Logger

	ops     chan func()
	pushes  chan *nats.Msg
	replies chan *nats.Msg

	clients  map[uint64]*client
	accounts map[string]*accountConns
}

type accountConns struct {
	clients []*client // usually one
	sub     *nats.Subscription
	// online is set once the presence event that made this account online
	// here is stored; then seq is its stream sequence, or err says why it
	// could not be stored. Until then, waiting holds the attaches to
	// answer with it.
	online  bool
	seq     uint64
	err     error
	waiting []chan<- attached
}

// attached is the outcome of an attach: the stream sequence of the
// presence event the account's pushes depend on.
type attached struct {
	seq uint64
	err error
}

func newHub(nc *nats.Conn, js jetstream.JetStream, gateway string, log *slog.Logger) *hub {
	return &hub{
		nc: nc, js: js, gateway: gateway, log: log,
		inbox:    "_INBOX.chirpgw." + gateway,
		ops:      make(chan func(), 4096),
		pushes:   make(chan *nats.Msg, 1<<16),
		replies:  make(chan *nats.Msg, 1<<14),
		clients:  make(map[uint64]*client),
		accounts: make(map[string]*accountConns),
	}
}

// start subscribes to the gateway's reply inbox.
func (h *hub) start() error {
	_, err := h.nc.ChanSubscribe(h.inbox+".>", h.replies)
	return err
}

// run owns the hub's state until stop is closed.
func (h *hub) run(stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		case f := <-h.ops:
			f()
		case m := <-h.pushes:
			h.push(m)
		case m := <-h.replies:
			h.reply(m)
		}
	}
}

// do runs f on the hub goroutine.
func (h *hub) do(f func()) { h.ops <- f }

func (h *hub) push(m *nats.Msg) {
	ac, ok := h.accounts[contract.LastToken(m.Subject)]
	if !ok {
		return
	}
	seq := pushSeq(m.Data)
	for _, c := range ac.clients {
		c.enqueue(item{frame: m.Data, seq: seq})
	}
}

func (h *hub) reply(m *nats.Msg) {
	rest := strings.TrimPrefix(m.Subject, h.inbox+".")
	cid, n, ok := strings.Cut(rest, ".")
	if !ok {
		return
	}
	id, err1 := strconv.ParseUint(cid, 10, 64)
	seq, err2 := strconv.ParseUint(n, 10, 64)
	if err1 != nil || err2 != nil {
		return
	}
	if c, ok := h.clients[id]; ok {
		c.enqueue(item{reply: seq, frame: m.Data})
	}
}

// register makes c reachable for replies.
func (h *hub) register(c *client) { h.do(func() { h.clients[c.id] = c }) }

// unregister forgets c and detaches it from its account.
func (h *hub) unregister(c *client) {
	h.do(func() {
		delete(h.clients, c.id)
		h.detach(c)
	})
}

// attach moves c to account handle. The channel yields, once the
// account's presence event is stored, that event's stream sequence: the
// feed service sends the account's pushes live from that input on.
func (h *hub) attach(c *client, handle string) <-chan attached {
	res := make(chan attached, 1)
	h.do(func() {
		h.detach(c)
		key := contract.Key(handle)
		c.hubKey = key
		ac, ok := h.accounts[key]
		if !ok {
			sub, err := h.nc.ChanSubscribe(contract.Subject(contract.PushPrefix, key), h.pushes)
			if err != nil {
				c.hubKey = ""
				res <- attached{err: err}
				return
			}
			ac = &accountConns{sub: sub}
			h.accounts[key] = ac
			h.presence(handle, true, ac)
		}
		ac.clients = append(ac.clients, c)
		if ac.online {
			res <- attached{seq: ac.seq, err: ac.err}
		} else {
			ac.waiting = append(ac.waiting, res)
		}
	})
	return res
}

// leave detaches c from its account.
func (h *hub) leave(c *client) { h.do(func() { h.detach(c) }) }

// detach removes c from its account; runs on the hub goroutine.
func (h *hub) detach(c *client) {
	if c.hubKey == "" {
		return
	}
	key := c.hubKey
	c.hubKey = ""
	ac, ok := h.accounts[key]
	if !ok {
		return
	}
	if i := slices.Index(ac.clients, c); i >= 0 {
		ac.clients = slices.Delete(ac.clients, i, i+1)
	}
	if len(ac.clients) > 0 {
		return
	}
	_ = ac.sub.Unsubscribe()
	delete(h.accounts, key)
	h.presence(key, false, nil)
}

// presence stores a presence event. For an account coming online, ac
// learns the outcome (on the hub goroutine) and answers its waiting
// attaches.
func (h *hub) presence(handle string, online bool, ac *accountConns) {
	data, _ := json.Marshal(contract.Presence{Handle: handle, Gateway: h.gateway, Online: online})
	f, err := h.js.PublishAsync(contract.Subject(contract.EvtPresence, contract.Key(handle)), data)
	if err != nil {
		h.log.Warn("publish presence", "err", err)
		if ac != nil {
			ac.settle(0, err)
		}
		return
	}
	if ac == nil {
		return
	}
	go func() {
		var seq uint64
		var err error
		select {
		case ack := <-f.Ok():
			seq = ack.Sequence
		case err = <-f.Err():
		}
		h.do(func() { ac.settle(seq, err) })
	}()
}

// settle records the outcome of the account's presence event and answers
// the attaches waiting for it. Hub goroutine.
func (ac *accountConns) settle(seq uint64, err error) {
	ac.online, ac.seq, ac.err = true, seq, err
	for _, res := range ac.waiting {
		res <- attached{seq: seq, err: err} // buffered, one answer each
	}
	ac.waiting = nil
}
