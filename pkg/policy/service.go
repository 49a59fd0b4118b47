// check_policy_service: Postfix's policy delegation protocol. smtpd sends
// "name=value" lines and an empty line over inet:host:port or unix:path
// and reads back "action=..." and an empty line; the action is an
// access(5) value. Connections are reused (smtpd_policy_service_max_idle,
// _max_ttl, _request_limit); a failed request is retried
// (_try_limit, _retry_delay) and then answered with _default_action.

package policy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/postern/postern/pkg/config"
)

// serviceOptions are the smtpd_policy_service_* settings of one server.
type serviceOptions struct {
	maxIdle, maxTTL, timeout, retryDelay time.Duration
	tryLimit, requestLimit               int
	defaultAction, context               string
}

// serviceSettings hold the defaults and the clients, one per server spec.
type serviceSettings struct {
	defaults    serviceOptions
	queueDir    string
	mailVersion string
	compat      string
	stress      string
	mu          sync.Mutex
	clients     map[string]*serviceClient
}

// serviceParams are the smtpd_policy_service_* defaults and what a
// request reports.
type serviceParams struct {
	MaxIdle       time.Duration `param:"smtpd_policy_service_max_idle"`
	MaxTTL        time.Duration `param:"smtpd_policy_service_max_ttl"`
	Timeout       time.Duration `param:"smtpd_policy_service_timeout"`
	RetryDelay    time.Duration `param:"smtpd_policy_service_retry_delay"`
	TryLimit      int           `param:"smtpd_policy_service_try_limit"`
	RequestLimit  int           `param:"smtpd_policy_service_request_limit"`
	DefaultAction string        `param:"smtpd_policy_service_default_action"`
	Context       string        `param:"smtpd_policy_service_policy_context"`
	QueueDir      string        `param:"queue_directory"`
	MailVersion   string        `param:"mail_version"`
	Compat        string        `param:"compatibility_level"`
	Stress        string        `param:"stress"`
}

// readServiceSettings reads the smtpd_policy_service_* defaults.
func readServiceSettings(cfg *config.Config) (*serviceSettings, error) {
	var p serviceParams
	if err := cfg.Fill(&p); err != nil {
		return nil, err
	}
	return &serviceSettings{
		defaults: serviceOptions{maxIdle: p.MaxIdle, maxTTL: p.MaxTTL, timeout: p.Timeout, retryDelay: p.RetryDelay,
			tryLimit: p.TryLimit, requestLimit: p.RequestLimit, defaultAction: p.DefaultAction, context: p.Context},
		queueDir: p.QueueDir, mailVersion: p.MailVersion, compat: p.Compat, stress: p.Stress,
		clients: map[string]*serviceClient{},
	}, nil
}

// client returns the client of a check_policy_service argument:
// "inet:host:port", "unix:path" (relative to the queue directory), or
// "{ endpoint, name=value, ... }" with per-server settings.
func (s *serviceSettings) client(spec string) (*serviceClient, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.clients[spec]; ok {
		return c, nil
	}
	opts := s.defaults
	endpoint := spec
	if strings.HasPrefix(spec, "{") {
		items := config.SplitList(strings.TrimSuffix(strings.TrimPrefix(spec, "{"), "}"))
		if len(items) == 0 {
			return nil, fmt.Errorf("check_policy_service: empty server in %s", spec)
		}
		endpoint = items[0]
		for _, item := range items[1:] {
			if err := opts.set(item); err != nil {
				return nil, fmt.Errorf("check_policy_service %s: %w", endpoint, err)
			}
		}
	}
	network, address, ok := strings.Cut(endpoint, ":")
	switch {
	case !ok:
		return nil, fmt.Errorf("check_policy_service: need transport:server, not %q", endpoint)
	case network == "inet":
		network = "tcp"
	case network == "unix":
		if !filepath.IsAbs(address) {
			address = filepath.Join(s.queueDir, address)
		}
	default:
		return nil, fmt.Errorf("check_policy_service %s: unsupported transport type: %s", endpoint, network)
	}
	c := &serviceClient{settings: s, name: endpoint, network: network, address: address, opts: opts}
	s.clients[spec] = c
	return c, nil
}

// seconds reads a per-server time attribute as Postfix reads its
// smtpd_policy_service_* counterpart: a number of seconds or a unit.
func seconds(name, value string) (time.Duration, error) {
	return config.Param{Name: name, Kind: config.KindTime, Unit: 's'}.Time(value)
}

// set applies one "name=value" per-server setting.
func (o *serviceOptions) set(item string) error {
	name, value, ok := strings.Cut(item, "=")
	if !ok {
		return fmt.Errorf("bad attribute %q: need name=value", item)
	}
	name = strings.TrimSpace(name)
	value = strings.TrimSpace(value)
	var err error
	switch name {
	case "max_idle":
		o.maxIdle, err = seconds(name, value)
	case "max_ttl":
		o.maxTTL, err = seconds(name, value)
	case "timeout":
		o.timeout, err = seconds(name, value)
	case "retry_delay":
		o.retryDelay, err = seconds(name, value)
	case "try_limit":
		o.tryLimit, err = strconv.Atoi(value)
	case "request_limit":
		o.requestLimit, err = strconv.Atoi(value)
	case "default_action":
		o.defaultAction = value
	case "policy_context":
		o.context = value
	default:
		return fmt.Errorf("unknown attribute name: %s", name)
	}
	return err
}

// closeAll closes the idle connections of every client.
func (s *serviceSettings) closeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.clients {
		c.closeIdle()
	}
}

// serviceClient talks to one policy server, reusing connections.
type serviceClient struct {
	settings         *serviceSettings
	name             string // as configured, for warnings
	network, address string
	opts             serviceOptions

	mu   sync.Mutex
	idle []*serviceConn
}

// serviceConn is one connection and its history.
type serviceConn struct {
	conn             net.Conn
	r                *bufio.Reader
	created, lastUse time.Time
	requests         int
}

// get returns an idle connection still within its limits, or a new one.
func (c *serviceClient) get() (*serviceConn, error) {
	now := time.Now()
	c.mu.Lock()
	for len(c.idle) > 0 {
		sc := c.idle[len(c.idle)-1]
		c.idle = c.idle[:len(c.idle)-1]
		if (c.opts.maxIdle > 0 && now.Sub(sc.lastUse) >= c.opts.maxIdle) ||
			(c.opts.maxTTL > 0 && now.Sub(sc.created) >= c.opts.maxTTL) {
			sc.conn.Close()
			continue
		}
		c.mu.Unlock()
		return sc, nil
	}
	c.mu.Unlock()
	conn, err := net.DialTimeout(c.network, c.address, c.opts.timeout)
	if err != nil {
		return nil, err
	}
	return &serviceConn{conn: conn, r: bufio.NewReader(conn), created: now}, nil
}

// put keeps a connection for reuse unless it reached its request limit.
func (c *serviceClient) put(sc *serviceConn) {
	sc.lastUse = time.Now()
	if c.opts.requestLimit > 0 && sc.requests >= c.opts.requestLimit {
		sc.conn.Close()
		return
	}
	c.mu.Lock()
	c.idle = append(c.idle, sc)
	c.mu.Unlock()
}

// closeIdle closes the kept connections.
func (c *serviceClient) closeIdle() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, sc := range c.idle {
		sc.conn.Close()
	}
	c.idle = nil
}

// errNoAction is a reply without an action attribute.
var errNoAction = errors.New("reply has no action attribute")

// query sends one request and returns the action.
func (c *serviceClient) query(ctx context.Context, request []byte) (string, error) {
	sc, err := c.get()
	if err != nil {
		return "", err
	}
	if c.opts.timeout > 0 {
		sc.conn.SetDeadline(time.Now().Add(c.opts.timeout))
	}
	sc.requests++
	if _, err := sc.conn.Write(request); err != nil {
		sc.conn.Close()
		return "", err
	}
	action, found := "", false
	for n := 0; ; n++ {
		line, err := sc.r.ReadString('\n')
		if err != nil {
			sc.conn.Close()
			return "", err
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			break
		}
		if n > 1000 {
			sc.conn.Close()
			return "", errors.New("reply too long")
		}
		if name, value, ok := strings.Cut(line, "="); ok && name == "action" {
			action, found = value, true
		}
	}
	sc.conn.SetDeadline(time.Time{})
	c.put(sc)
	if !found {
		return "", errNoAction
	}
	return action, nil
}

// request is the attribute list for the current command.
func (e *evaluation) policyRequest(c *serviceClient) []byte {
	s := e.s
	set := c.settings
	count := 0
	if s.where == "DATA" || s.where == "END-OF-MESSAGE" {
		count = s.RecipientCount
	}
	sender, rcpt := "", ""
	if s.Mail {
		sender = s.Sender.Internal()
	}
	// The names only of a verified certificate; the fingerprints of any.
	var cert ClientCert
	if s.ClientCert != nil {
		cert.Fingerprint, cert.PubkeyFingerprint = s.ClientCert.Fingerprint, s.ClientCert.PubkeyFingerprint
		if s.ClientCert.Trusted {
			cert.CommonName, cert.Issuer = s.ClientCert.CommonName, s.ClientCert.Issuer
		}
	}
	if e.hasRecipient() {
		rcpt = s.Recipient.Internal()
	}
	attrs := [][2]string{
		{"request", "smtpd_access_policy"}, {"protocol_state", s.where}, {"protocol_name", s.Protocol},
		{"client_address", s.ClientAddr}, {"client_name", s.clientName()}, {"client_port", s.ClientPort},
		{"reverse_client_name", s.reverseName()}, {"server_address", s.ServerAddr}, {"server_port", s.ServerPort},
		{"helo_name", s.Helo}, {"sender", sender}, {"recipient", rcpt},
		{"recipient_count", strconv.Itoa(count)}, {"queue_id", s.QueueID}, {"instance", s.Instance},
		{"size", strconv.FormatInt(s.Size, 10)}, {"etrn_domain", s.Etrn}, {"stress", set.stress},
		{"sasl_method", s.SASLMethod}, {"sasl_username", s.SASLUser}, {"sasl_sender", s.SASLSender},
		{"ccert_subject", cert.CommonName}, {"ccert_issuer", cert.Issuer}, {"ccert_fingerprint", cert.Fingerprint}, {"ccert_pubkey_fingerprint", cert.PubkeyFingerprint},
		{"encryption_protocol", s.TLSProtocol}, {"encryption_cipher", s.TLSCipher}, {"encryption_keysize", "0"},
		{"policy_context", c.opts.context}, {"compatibility_level", set.compat}, {"mail_version", set.mailVersion},
	}
	var b strings.Builder
	for _, a := range attrs {
		// A newline in a value would end the attribute early.
		b.WriteString(a[0] + "=" + strings.NewReplacer("\n", " ", "\r", " ").Replace(a[1]) + "\n")
	}
	b.WriteString("\n")
	return []byte(b.String())
}

// problemText is how Postfix words a failed policy query: a server that
// closed the connection without an answer is an "Application error".
func problemText(err error) string {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "Application error"
	}
	return err.Error()
}

// policyService implements check_policy_service: the server's action is
// interpreted as an access-table value; when the server cannot be asked
// (after smtpd_policy_service_try_limit attempts), the default action is.
func (e *evaluation) policyService(c *serviceClient, ctx replyContext) Decision {
	request := e.policyRequest(c)
	var action string
	var err error
	tries := c.opts.tryLimit
	if tries < 1 {
		tries = 1
	}
	for try := 1; try <= tries; try++ {
		if action, err = c.query(context.Background(), request); err == nil {
			break
		}
		if try < tries && c.opts.retryDelay > 0 {
			e.c.sleep(c.opts.retryDelay)
		}
	}
	if err != nil {
		e.c.warn(fmt.Sprintf("problem talking to server %s: %s", strings.TrimPrefix(strings.TrimPrefix(c.name, "inet:"), "unix:"), problemText(err)))
		return e.accessResult(c.name, "policy query", c.opts.defaultAction, ctx)
	}
	return e.accessResult(c.name, "policy query", action, ctx)
}
