package stripemeter

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"
)

// Version is this SDK's version, sent in the User-Agent header.
const Version = "0.1.0"

// DefaultBaseURL is used when neither WithBaseURL nor STRIPEMETER_URL says otherwise.
const DefaultBaseURL = "http://127.0.0.1:3000"

// Client talks to one stripemeter deployment (one or several nodes). It is safe for
// concurrent use; build one and share it.
type Client struct {
	apiKey    string
	tenantID  string
	nodes     *nodePool
	http      *http.Client
	ownsHTTP  bool
	timeout   time.Duration
	retry     RetryPolicy
	jitter    *jitter
	stamps    *stamper
	userAgent string
	now       func() time.Time
	sleep     func(ctx context.Context, d time.Duration) error
}

type config struct {
	apiKey     string
	baseURLs   []string
	tenantID   string
	tenantSet  bool
	httpClient *http.Client
	transport  http.RoundTripper
	timeout    time.Duration
	retry      *RetryPolicy
	userAgent  string
	seed       int64
	now        func() time.Time
}

// Option configures a Client.
type Option func(*config)

// WithAPIKey sets the API key (default: the STRIPEMETER_API_KEY environment variable).
func WithAPIKey(key string) Option { return func(c *config) { c.apiKey = key } }

// WithBaseURL sets one or several node base URLs (default: STRIPEMETER_URL or
// STRIPEMETER_API_URL, comma-separated, else http://127.0.0.1:3000). Calls rotate over the
// nodes and fail over to the next one on network errors and 5xx. A bare "host:port" means
// plain HTTP.
func WithBaseURL(urls ...string) Option { return func(c *config) { c.baseURLs = urls } }

// WithTenant sets the tenant of the API key (default: STRIPEMETER_TENANT). With it the
// client computes every event's idempotency key itself and sends it; without it, it sends
// the timestamp it stamped and the server derives the very same key. A tenant that differs
// from the key's is refused with 403. WithTenant("") turns the environment default off.
func WithTenant(tenantID string) Option {
	return func(c *config) { c.tenantID, c.tenantSet = tenantID, true }
}

// WithHTTPClient makes the client send through hc (its Timeout, if any, also applies).
func WithHTTPClient(hc *http.Client) Option { return func(c *config) { c.httpClient = hc } }

// WithTransport sets the RoundTripper of the client's own http.Client (a test seam, a proxy,
// custom TLS).
func WithTransport(rt http.RoundTripper) Option { return func(c *config) { c.transport = rt } }

// WithTimeout bounds each HTTP attempt (default 10 s); a timed-out attempt is retried like a
// network error. The context passed to a call bounds the call as a whole.
func WithTimeout(d time.Duration) Option { return func(c *config) { c.timeout = d } }

// WithRetry sets the retry policy (default DefaultRetryPolicy; NoRetry for none).
func WithRetry(p RetryPolicy) Option { return func(c *config) { c.retry = &p } }

// WithUserAgent prefixes the User-Agent header, e.g. "my-app/1.2".
func WithUserAgent(ua string) Option { return func(c *config) { c.userAgent = ua } }

// WithJitterSeed seeds the backoff jitter (reproducible delays in tests).
func WithJitterSeed(seed int64) Option { return func(c *config) { c.seed = seed } }

// WithClock sets the clock used to stamp events (default time.Now).
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// New builds a client. It fails on a missing API key or a malformed base URL; it does not
// contact the server (Ping does).
func New(opts ...Option) (*Client, error) {
	cfg := config{timeout: 10 * time.Second, seed: time.Now().UnixNano(), now: time.Now}
	for _, opt := range opts {
		opt(&cfg)
	}
	if cfg.apiKey == "" {
		cfg.apiKey = os.Getenv("STRIPEMETER_API_KEY")
	}
	if cfg.apiKey == "" {
		return nil, errors.New("stripemeter: an API key is required: WithAPIKey or STRIPEMETER_API_KEY")
	}
	if strings.ContainsAny(cfg.apiKey, "\r\n") {
		return nil, errors.New("stripemeter: the API key contains a line break")
	}
	urls, err := baseURLs(cfg.baseURLs)
	if err != nil {
		return nil, err
	}
	if !cfg.tenantSet {
		cfg.tenantID = os.Getenv("STRIPEMETER_TENANT")
	}
	retry := DefaultRetryPolicy
	if cfg.retry != nil {
		retry = *cfg.retry
	}
	c := &Client{
		apiKey:    cfg.apiKey,
		tenantID:  cfg.tenantID,
		nodes:     newNodePool(urls, time.Now),
		http:      cfg.httpClient,
		timeout:   cfg.timeout,
		retry:     retry.withDefaults(),
		jitter:    newJitter(cfg.seed),
		stamps:    &stamper{now: cfg.now},
		userAgent: strings.TrimSpace(cfg.userAgent + " stripemeter-go/" + Version),
		now:       time.Now,
		sleep:     sleepContext,
	}
	if c.http == nil {
		transport := cfg.transport
		if transport == nil {
			transport = http.DefaultTransport.(*http.Transport).Clone()
		}
		c.http = &http.Client{Transport: transport}
		c.ownsHTTP = true
	}
	return c, nil
}

func baseURLs(given []string) ([]string, error) {
	if len(given) == 0 {
		env := os.Getenv("STRIPEMETER_URL")
		if env == "" {
			env = os.Getenv("STRIPEMETER_API_URL")
		}
		if env == "" {
			env = DefaultBaseURL
		}
		given = strings.Split(env, ",")
	}
	var urls []string
	for _, raw := range given {
		for _, item := range strings.Split(raw, ",") {
			u := strings.TrimRight(strings.TrimSpace(item), "/")
			if u == "" {
				continue
			}
			if !strings.Contains(u, "://") {
				u = "http://" + u
			}
			if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
				return nil, fmt.Errorf("stripemeter: base URL must be http:// or https://: %q", u)
			}
			urls = append(urls, u)
		}
	}
	if len(urls) == 0 {
		return nil, errors.New("stripemeter: at least one base URL is required")
	}
	return urls, nil
}

// TenantID is the tenant the client computes idempotency keys for ("" when unknown).
func (c *Client) TenantID() string { return c.tenantID }

// BaseURLs lists the nodes the client rotates over.
func (c *Client) BaseURLs() []string { return append([]string(nil), c.nodes.urls...) }

// Close releases idle connections of the client's own HTTP client. Batchers have their
// own Close, which must be called first.
func (c *Client) Close() error {
	if c.ownsHTTP {
		c.http.CloseIdleConnections()
	}
	return nil
}

// Ping checks that a node answers (GET /health/live), to fail fast at start-up.
func (c *Client) Ping(ctx context.Context) error {
	return c.do(ctx, request{method: http.MethodGet, path: "/health/live"}, nil)
}

func sleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}
