// The verify service's state: the cache of results, when an entry
// expires, and when a query sends a new probe.

package verify

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/postern/postern/pkg/config"
	"github.com/postern/postern/pkg/maps"
)

// Settings are the verify service's parameters.
type Settings struct {
	Map             string        `param:"address_verify_map"`
	CleanupInterval time.Duration `param:"address_verify_cache_cleanup_interval"`
	Sender          string        `param:"address_verify_sender"`
	SenderTTL       time.Duration `param:"address_verify_sender_ttl"`
	PositiveExpire  time.Duration `param:"address_verify_positive_expire_time"`
	PositiveRefresh time.Duration `param:"address_verify_positive_refresh_time"`
	NegativeCache   bool          `param:"address_verify_negative_cache"`
	NegativeExpire  time.Duration `param:"address_verify_negative_expire_time"`
	NegativeRefresh time.Duration `param:"address_verify_negative_refresh_time"`
}

// FromConfig reads the verify service's settings.
func FromConfig(cfg *config.Config) (Settings, error) {
	var s Settings
	if err := cfg.Fill(&s); err != nil {
		return s, err
	}
	if strings.HasPrefix(s.Sender, "@") {
		return s, fmt.Errorf("parameter address_verify_sender: value \"%s\" must not start with '@'", s.Sender)
	}
	if strings.HasSuffix(s.Sender, "@") {
		return s, fmt.Errorf("parameter address_verify_sender: value \"%s\" must not end with '@'", s.Sender)
	}
	return s, nil
}

// ProbeSender is the envelope sender of a probe sent at now:
// address_verify_sender, where "" and "<>" mean the null sender. With
// address_verify_sender_ttl, the number of whole TTLs since the epoch is
// appended to the local part in Postfix's vowel-free base 31, so that the
// address changes every TTL (double-bounce1QX5@example.com).
func (s Settings) ProbeSender(now time.Time) string {
	if s.Sender == "" || s.Sender == "<>" {
		return ""
	}
	if s.SenderTTL <= 0 {
		return s.Sender
	}
	local, domain, _ := strings.Cut(s.Sender, "@")
	stamp := safeBase31(uint64(now.Unix() / int64(s.SenderTTL/time.Second)))
	if domain == "" {
		return local + stamp
	}
	return local + stamp + "@" + domain
}

// safeDigits are Postfix's safe_ultostr digits: no vowels, so that a
// number never spells a word.
const safeDigits = "0123456789BCDFGHJKLMNPQRSTVWXYZ"

// safeBase31 writes n in base 31 with safeDigits ("" for 0, as Postfix).
func safeBase31(n uint64) string {
	var b []byte
	for ; n > 0; n /= 31 {
		b = append([]byte{safeDigits[n%31]}, b...)
	}
	return string(b)
}

// Table is where the cache lives: an updatable lookup table
// (address_verify_map) or, when that is empty, memory.
type Table interface {
	Lookup(key string) (string, bool, error)
	Put(key, value string) error
	Delete(key string) error
	Walk(fn func(key, value string) bool) error
}

// MemoryTable is the cache of a verify service without
// address_verify_map: it lasts as long as the process.
type MemoryTable struct {
	m map[string]string
}

// NewMemoryTable returns an empty MemoryTable.
func NewMemoryTable() *MemoryTable { return &MemoryTable{m: map[string]string{}} }

// Lookup implements Table.
func (t *MemoryTable) Lookup(key string) (string, bool, error) {
	v, ok := t.m[key]
	return v, ok, nil
}

// Put implements Table.
func (t *MemoryTable) Put(key, value string) error { t.m[key] = value; return nil }

// Delete implements Table.
func (t *MemoryTable) Delete(key string) error { delete(t.m, key); return nil }

// Walk implements Table, in no particular order.
func (t *MemoryTable) Walk(fn func(key, value string) bool) error {
	for k, v := range t.m {
		if !fn(k, v) {
			break
		}
	}
	return nil
}

// OpenTable opens address_verify_map for reading and writing, or returns
// a MemoryTable when spec is empty.
func OpenTable(spec string) (Table, error) {
	if spec == "" {
		return NewMemoryTable(), nil
	}
	return maps.OpenUpdatable(spec, 0o644)
}

// Cache answers queries and records results. Its methods are safe for
// concurrent use.
type Cache struct {
	Settings Settings
	Table    Table
	// Probe sends a probe to addr; it must not block for long (the
	// service runs it in its own goroutine).
	Probe func(addr string)
	// Warn receives warnings in Postfix's words.
	Warn func(string)
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu sync.Mutex
}

func (c *Cache) now() int64 {
	if c.Now != nil {
		return c.Now().Unix()
	}
	return time.Now().Unix()
}

func (c *Cache) warn(format string, args ...any) {
	if c.Warn != nil {
		c.Warn(fmt.Sprintf(format, args...))
	}
}

// cacheKey is the table key for addr. As Postfix, ":" (in IPv6 address
// literals) becomes "_", so that it cannot be confused with the value's
// separator by other tools.
func cacheKey(addr string) string { return strings.ReplaceAll(addr, ":", "_") }

// get reads the entry of key; ok is false when there is none usable.
func (c *Cache) get(key string) (e entry, found, ok bool) {
	v, found, err := c.Table.Lookup(key)
	if err != nil {
		c.warn("%v", err)
		return entry{}, false, false
	}
	if !found {
		return entry{}, false, false
	}
	if e, ok = parseEntry(v); !ok {
		c.warn("bad address verify table entry: %.100s", v)
	}
	return e, true, ok
}

func (c *Cache) put(key string, e entry) {
	if err := c.Table.Put(key, e.String()); err != nil {
		c.warn("%v", err)
	}
}

// expired reports whether e's result is too old to be used.
func (c *Cache) expired(e entry, now int64) bool {
	if e.status == StatusOK {
		return e.updated+seconds(c.Settings.PositiveExpire) < now
	}
	return e.updated+seconds(c.Settings.NegativeExpire) < now
}

// Cleanup drops the entries that are malformed or expired and have no
// probe under way (address_verify_cache_cleanup_interval), and returns
// how many it kept and dropped.
func (c *Cache) Cleanup() (retained, dropped int, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	var drop []string
	err = c.Table.Walk(func(key, value string) bool {
		e, ok := parseEntry(value)
		if ok && (now-e.probed < seconds(probeTTL) || !c.expired(e, now)) {
			retained++
		} else {
			drop = append(drop, key)
		}
		return true
	})
	if err != nil {
		return 0, 0, err
	}
	for _, key := range drop {
		if err := c.Table.Delete(key); err != nil {
			return retained, dropped, err
		}
		dropped++
	}
	return retained, dropped, nil
}

// KeepClean runs Cleanup at once and then every
// address_verify_cache_cleanup_interval until done is closed, logging each
// pass through info as Postfix does. A memory cache or an interval of 0
// is never cleaned.
func (c *Cache) KeepClean(done <-chan struct{}, info func(string)) {
	if c.Settings.Map == "" || c.Settings.CleanupInterval <= 0 {
		return
	}
	// The first cleanup comes before the first query.
	c.cleanAndLog(info)
	go func() {
		ticker := time.NewTicker(c.Settings.CleanupInterval)
		defer ticker.Stop()
		for {
			select {
			case <-ticker.C:
				c.cleanAndLog(info)
			case <-done:
				return
			}
		}
	}()
}

// cleanAndLog runs Cleanup and logs its outcome.
func (c *Cache) cleanAndLog(info func(string)) {
	retained, dropped, err := c.Cleanup()
	if err != nil {
		c.warn("cache %s: cleanup: %v", c.Settings.Map, err)
		return
	}
	info(fmt.Sprintf("cache %s full cleanup: retained=%d dropped=%d entries", c.Settings.Map, retained, dropped))
}

// Query returns what is known about addr. An address that is not known,
// or whose result has expired, is StatusTodo with "Address verification
// in progress". A probe goes out when the result is missing or due for
// a refresh and no probe was sent in the last 1000 seconds.
func (c *Cache) Query(addr string) (Status, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.Settings
	key, now := cacheKey(addr), c.now()
	e, found, ok := c.get(key)
	if !ok || (now-e.probed > seconds(probeTTL) && c.expired(e, now)) {
		e = entry{status: StatusTodo, text: inProgress}
		if found && !s.NegativeCache {
			if err := c.Table.Delete(key); err != nil {
				c.warn("%v", err)
			}
		}
	}
	refresh := e.updated+seconds(s.NegativeRefresh) < now
	if e.status == StatusOK {
		refresh = e.updated+seconds(s.PositiveRefresh) < now
	}
	if now-e.probed > seconds(probeTTL) && refresh {
		if c.Probe != nil {
			go c.Probe(addr)
		}
		if e.updated != 0 || s.NegativeCache {
			c.put(key, entry{status: e.status, probed: now, updated: e.updated, text: e.text})
		}
	}
	return e.status, e.text
}

// Update records a probe's result for addr. A failed probe does not
// replace a deliverable entry before that expires: the address is probed
// again at the next query instead.
func (c *Cache) Update(addr string, status Status, text string) error {
	if status != StatusOK && status != StatusDefer && status != StatusBounce {
		return fmt.Errorf("bad recipient status %d for recipient %s", status, addr)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	key := cacheKey(addr)
	if status != StatusOK {
		if e, _, ok := c.get(key); ok && e.status == StatusOK {
			return nil
		}
	}
	c.put(key, entry{status: status, updated: c.now(), text: text})
	return nil
}

func seconds(d time.Duration) int64 { return int64(d / time.Second) }
