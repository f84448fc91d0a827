package natskit

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"chirp/contract"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// Least privilege on NATS. Every Chirp component connects as its own user
// and may publish and subscribe only what its code uses:
//
//   - gateway: publishes requests on the endpoints (chirp.user.*,
//     chirp.tweet.*, chirp.feed.*) and its own presence and started events;
//     subscribes to pushes (chirp.push.>) and its reply inboxes. It can
//     neither publish a command or a derived event nor read the stream.
//   - user, tweet: publish their own commands and events (chirp.cmd.<svc>.>,
//     chirp.evt.<svc>.>); feed publishes pushes (chirp.push.>). Each
//     subscribes to its own endpoints and to $SRV.> (micro discovery), and
//     publishes replies on _INBOX.> (a command's reply can come from
//     another service: a post is answered by the feed service). JetStream
//     API: its own durable consumer on CHIRP, ordered replay consumers,
//     stream info/create/update of the streams it ensures at start-up, and
//     the snapshot object store.
//   - operator: everything; for the nats CLI and for creating the streams
//     in the one-process mode.
//
// Every component connects with its own inbox prefix (InboxPrefix), so
// none can read another's replies.

// Role names a component's NATS identity.
type Role string

// The roles.
const (
	RoleOperator Role = "operator"
	RoleGateway  Role = "gateway"
	RoleUser     Role = "user"
	RoleTweet    Role = "tweet"
	RoleFeed     Role = "feed"
)

// Roles lists every role.
var Roles = []Role{RoleOperator, RoleGateway, RoleUser, RoleTweet, RoleFeed}

// Credentials are a NATS user and password; empty means none (a server
// without authentication).
type Credentials struct {
	User     string `json:"user"`
	Password string `json:"password"`
}

// Options returns the connect options that present c.
func (c Credentials) Options() []nats.Option {
	if c.User == "" {
		return nil
	}
	return []nats.Option{nats.UserInfo(c.User, c.Password)}
}

// Users holds the credentials of every role.
type Users map[Role]Credentials

// UserName is the NATS user name of a role.
func UserName(r Role) string { return "chirp-" + string(r) }

// InboxPrefix is the inbox prefix a role's connections use; a role may
// subscribe only below its own.
func InboxPrefix(r Role) string { return "_INBOX." + string(r) }

// GatewayReplyPrefix is the prefix of the reply subjects the gateway's hub
// puts on client requests (_INBOX.chirpgw.<gateway id>.<client>.<n>).
const GatewayReplyPrefix = "_INBOX.chirpgw"

// NewUsers makes every role's user with a random password.
func NewUsers() (Users, error) {
	u := make(Users, len(Roles))
	for _, r := range Roles {
		b := make([]byte, 24)
		if _, err := rand.Read(b); err != nil {
			return nil, fmt.Errorf("nats password: %w", err)
		}
		u[r] = Credentials{User: UserName(r), Password: base64.RawURLEncoding.EncodeToString(b)}
	}
	return u, nil
}

// LoadOrCreateUsers reads the users file at path (JSON, role to
// credentials), creating it with random passwords, mode 0600, when it does
// not exist. A file missing a role gets one added.
func LoadOrCreateUsers(path string) (Users, error) {
	fresh, err := NewUsers()
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("read nats users: %w", err)
	default:
		var u Users
		if err := json.Unmarshal(b, &u); err != nil {
			return nil, fmt.Errorf("nats users file %s: %w", path, err)
		}
		complete := true
		for _, r := range Roles {
			if c, ok := u[r]; !ok || c.User == "" || c.Password == "" {
				u[r] = fresh[r]
				complete = false
			}
		}
		if complete {
			return u, nil
		}
		fresh = u
	}
	b, err = json.MarshalIndent(fresh, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode nats users: %w", err)
	}
	if err := writePrivate(path, append(b, '\n')); err != nil {
		return nil, fmt.Errorf("write nats users: %w", err)
	}
	return fresh, nil
}

// WriteCLIEnv writes a shell file that points the nats CLI at url as
// operator (mode 0600): `. <path>` and then `nats sub 'chirp.evt.>'`.
func WriteCLIEnv(path, url string, operator Credentials) error {
	var b strings.Builder
	b.WriteString("# The nats CLI as this Chirp's NATS operator (full access). In a shell:\n")
	b.WriteString("#   . " + path + "\n#   nats sub 'chirp.evt.>'\n")
	for _, kv := range [][2]string{{"NATS_URL", url}, {"NATS_USER", operator.User}, {"NATS_PASSWORD", operator.Password}} {
		b.WriteString("export " + kv[0] + "='" + strings.ReplaceAll(kv[1], "'", `'\''`) + "'\n")
	}
	if err := writePrivate(path, []byte(b.String())); err != nil {
		return fmt.Errorf("write nats CLI settings: %w", err)
	}
	return nil
}

// writePrivate writes a file only its owner can read, replacing it whole.
func writePrivate(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o600); err != nil { // WriteFile keeps an existing file's mode
		return err
	}
	return os.Rename(tmp, path)
}

// ServerUsers returns the nats-server users for u, each with its role's
// permissions.
func (u Users) ServerUsers() []*server.User {
	out := make([]*server.User, 0, len(u))
	for _, r := range Roles {
		c, ok := u[r]
		if !ok {
			continue
		}
		out = append(out, &server.User{Username: c.User, Password: c.Password, Permissions: Permissions(r)})
	}
	return out
}

// snapshotStream is the stream behind the snapshot object store.
const snapshotStream = "OBJ_" + SnapshotBucket

// ServiceRoles are the roles that run a world.
var ServiceRoles = []Role{RoleUser, RoleTweet, RoleFeed}

// Permissions returns what a role may publish and subscribe to. The
// operator may do everything.
func Permissions(r Role) *server.Permissions {
	switch r {
	case RoleOperator:
		return &server.Permissions{
			Publish:   &server.SubjectPermission{Allow: []string{">"}},
			Subscribe: &server.SubjectPermission{Allow: []string{">"}},
		}
	case RoleGateway:
		return &server.Permissions{
			Publish: &server.SubjectPermission{Allow: []string{
				// Requests; the services check them and act.
				"chirp.user.*", "chirp.tweet.*", "chirp.feed.*",
				// Its own events, stored on the stream.
				contract.EvtPresence + ".*", contract.EvtGatewayStarted + ".*",
				// Waiting for the services to create the stream.
				"$JS.API.STREAM.INFO." + contract.StreamName,
			}},
			Subscribe: &server.SubjectPermission{Allow: []string{
				contract.PushPrefix + ".>",
				GatewayReplyPrefix + ".>",
				InboxPrefix(r) + ".>",
			}},
		}
	case RoleUser, RoleTweet, RoleFeed:
		return servicePermissions(r)
	}
	// An unknown role may do nothing.
	return &server.Permissions{
		Publish:   &server.SubjectPermission{Deny: []string{">"}},
		Subscribe: &server.SubjectPermission{Deny: []string{">"}},
	}
}

// servicePermissions is a world-running service's permission set.
func servicePermissions(r Role) *server.Permissions {
	name := string(r)
	var own []string
	switch r {
	case RoleUser:
		own = []string{"chirp.cmd.user.>", "chirp.evt.user.>"}
	case RoleTweet:
		own = []string{"chirp.cmd.tweet.>", "chirp.evt.tweet.>"}
	case RoleFeed:
		own = []string{contract.PushPrefix + ".>"}
	}
	js := "$JS.API."
	pub := append(own,
		"chirp.dlq."+name,
		// Replies, to any requester (a command's reply can be sent by
		// another service than the one that took the request).
		"_INBOX.>",
		// micro: discovery and stats (replies go to _INBOX), and the
		// stack's start-up PING of the service.
		"$SRV.>",
		// Streams it ensures at start-up.
		js+"STREAM.INFO."+contract.StreamName,
		js+"STREAM.CREATE."+contract.StreamName,
		js+"STREAM.UPDATE."+contract.StreamName,
		js+"STREAM.INFO."+snapshotStream,
		js+"STREAM.CREATE."+snapshotStream,
		js+"STREAM.UPDATE."+snapshotStream,
		// Its durable consumer, named after the service; an ordered
		// consumer (random name) replays the tail at start-up.
		js+"CONSUMER.INFO."+contract.StreamName+"."+name,
		js+"CONSUMER.DELETE."+contract.StreamName+"."+name,
		js+"CONSUMER.CREATE."+contract.StreamName+".*",
		js+"CONSUMER.CREATE."+contract.StreamName+".*.>",
		js+"CONSUMER.MSG.NEXT."+contract.StreamName+".*",
		"$JS.ACK."+contract.StreamName+"."+name+".>",
		// Snapshots: the object store's chunks and metadata, its reads
		// (direct get of the metadata, an ordered consumer for chunks)
		// and the purge of a replaced snapshot's chunks.
		"$O."+SnapshotBucket+".>",
		js+"DIRECT.GET."+snapshotStream+".>",
		js+"STREAM.MSG.GET."+snapshotStream,
		js+"STREAM.PURGE."+snapshotStream,
		js+"CONSUMER.CREATE."+snapshotStream+".*",
		js+"CONSUMER.CREATE."+snapshotStream+".*.>",
		js+"CONSUMER.MSG.NEXT."+snapshotStream+".*",
		js+"CONSUMER.DELETE."+snapshotStream+".*",
		"$JS.FC."+snapshotStream+".>",
	)
	pub = append(pub, partitionConsumers(name)...)
	// No service may create or change another's durable consumer.
	var deny []string
	for _, o := range ServiceRoles {
		if o != r {
			deny = append(deny,
				js+"CONSUMER.CREATE."+contract.StreamName+"."+string(o),
				js+"CONSUMER.CREATE."+contract.StreamName+"."+string(o)+".>",
				js+"CONSUMER.MSG.NEXT."+contract.StreamName+"."+string(o))
		}
	}
	var endpoints string
	switch r {
	case RoleUser:
		endpoints = "chirp.user.*"
	case RoleTweet:
		endpoints = "chirp.tweet.*"
	case RoleFeed:
		endpoints = "chirp.feed.*"
	}
	return &server.Permissions{
		Publish: &server.SubjectPermission{Allow: slices.Clip(pub), Deny: deny},
		Subscribe: &server.SubjectPermission{Allow: []string{
			endpoints,
			"$SRV.>",
			InboxPrefix(r) + ".>",
		}},
	}
}

// MaxPartitions bounds how many partitions a service may run as under the
// embedded server's permissions.
const MaxPartitions = 16

// partitionConsumers grants service the durable consumers of its
// partitions ("<service>-<i>of<n>", see loop.WorldName) and the listing of
// consumer names it needs to take over from another partitioning.
// Permissions match whole tokens, so each name is listed.
func partitionConsumers(service string) []string {
	js := "$JS.API."
	out := []string{js + "CONSUMER.NAMES." + contract.StreamName, js + "CONSUMER.LIST." + contract.StreamName}
	for n := 2; n <= MaxPartitions; n++ {
		for i := 0; i < n; i++ {
			c := fmt.Sprintf("%s-%dof%d", service, i, n)
			out = append(out,
				js+"CONSUMER.INFO."+contract.StreamName+"."+c,
				js+"CONSUMER.DELETE."+contract.StreamName+"."+c,
				"$JS.ACK."+contract.StreamName+"."+c+".>")
		}
	}
	return out
}
