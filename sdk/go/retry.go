package stripemeter

import (
	"math/rand"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// RetryPolicy says how hard a call tries before it returns an error.
//
// Retried: network errors and per-attempt timeouts, 408, 429 and every 5xx. Every request the
// client sends is safe to repeat: ingest carries the same timestamps and idempotency keys on
// every attempt, reads are reads, and creating an identical metric again is a 200.
//
// A network error or a 5xx moves to the next base URL at once if one is left untried in
// this call, else waits a backoff. A 429 stays on the same node and waits Retry-After
// (capped at MaxRetryAfter), or a backoff when the header is absent. The backoff before
// the n-th wait is drawn uniformly from [0, min(MaxDelay, BaseDelay × 2^(n-1))] ("full
// jitter"), so many clients retrying together spread out.
// Zero fields take the defaults of DefaultRetryPolicy.
type RetryPolicy struct {
	MaxAttempts   int           // HTTP attempts per call over all nodes (1 = no retry); default 6
	BaseDelay     time.Duration // default 250 ms
	MaxDelay      time.Duration // default 8 s
	MaxRetryAfter time.Duration // longest Retry-After honoured; default 60 s
}

// DefaultRetryPolicy is the policy of a client built without WithRetry.
var DefaultRetryPolicy = RetryPolicy{
	MaxAttempts:   6,
	BaseDelay:     250 * time.Millisecond,
	MaxDelay:      8 * time.Second,
	MaxRetryAfter: 60 * time.Second,
}

// NoRetry makes every call a single attempt.
var NoRetry = RetryPolicy{MaxAttempts: 1}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts < 1 {
		p.MaxAttempts = 1
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = DefaultRetryPolicy.BaseDelay
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = DefaultRetryPolicy.MaxDelay
	}
	if p.MaxDelay < p.BaseDelay {
		p.MaxDelay = p.BaseDelay
	}
	if p.MaxRetryAfter <= 0 {
		p.MaxRetryAfter = DefaultRetryPolicy.MaxRetryAfter
	}
	return p
}

// jitter draws backoff delays; safe for concurrent use.
type jitter struct {
	mu  sync.Mutex
	rng *rand.Rand
}

func newJitter(seed int64) *jitter {
	return &jitter{rng: rand.New(rand.NewSource(seed))}
}

// backoff is the full-jitter delay before the n-th wait (n ≥ 1) of one call.
func (j *jitter) backoff(p RetryPolicy, n int) time.Duration {
	ceiling := p.BaseDelay
	for i := 1; i < n && ceiling < p.MaxDelay; i++ {
		ceiling *= 2
	}
	if ceiling > p.MaxDelay {
		ceiling = p.MaxDelay
	}
	if ceiling <= 0 {
		return 0
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	return time.Duration(j.rng.Int63n(int64(ceiling) + 1))
}

// parseRetryAfter reads delta-seconds or an HTTP-date; zero when absent or unreadable.
func parseRetryAfter(value string, now time.Time) time.Duration {
	value = strings.TrimSpace(value)
	if value == "" {
		return 0
	}
	if seconds, err := strconv.ParseFloat(value, 64); err == nil {
		if seconds <= 0 || seconds != seconds {
			return 0
		}
		if seconds > 86400 {
			seconds = 86400
		}
		return time.Duration(seconds * float64(time.Second))
	}
	when, err := http.ParseTime(value)
	if err != nil || !when.After(now) {
		return 0
	}
	return when.Sub(now)
}

// nodeCooldown is how long a node that just failed is tried only after the healthy ones.
const nodeCooldown = 5 * time.Second

// nodePool rotates calls over the base URLs and puts a failing node at the back for a while.
type nodePool struct {
	mu        sync.Mutex
	urls      []string
	next      int
	downUntil map[string]time.Time
	now       func() time.Time
}

func newNodePool(urls []string, now func() time.Time) *nodePool {
	return &nodePool{urls: urls, downUntil: map[string]time.Time{}, now: now}
}

// order is the nodes to try for one call: healthy ones first, starting node rotating.
func (p *nodePool) order() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	start := p.next % len(p.urls)
	p.next++
	now := p.now()
	healthy := make([]string, 0, len(p.urls))
	var down []string
	for i := range p.urls {
		url := p.urls[(start+i)%len(p.urls)]
		if until, ok := p.downUntil[url]; ok && now.Before(until) {
			down = append(down, url)
		} else {
			healthy = append(healthy, url)
		}
	}
	return append(healthy, down...)
}

func (p *nodePool) markDown(url string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.downUntil[url] = p.now().Add(nodeCooldown)
}

func (p *nodePool) markUp(url string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.downUntil, url)
}
