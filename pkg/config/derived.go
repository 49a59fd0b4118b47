// derived.go computes the defaults that depend on the host or on other
// settings: myhostname, mydomain, mynetworks, process_id, process_name and
// Postern's own version.

package config

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// hostname is os.Hostname, replaceable by tests.
var hostname = os.Hostname

// derivedNames are the parameters whose default deriveDefault computes.
var derivedNames = []string{
	"mail_release_date", "mail_version", "mydomain", "myhostname",
	"mynetworks", "process_id", "process_name",
}

var derivedSet = func() map[string]bool {
	m := map[string]bool{}
	for _, n := range derivedNames {
		m[n] = true
	}
	return m
}()

// deriveDefault computes name's default from the host and the
// configuration c, looking names up in vars first.
func deriveDefault(c *Config, name string, vars map[string]string) (string, error) {
	switch name {
	case "myhostname":
		return defaultMyhostname(c, vars)
	case "mydomain":
		return defaultMydomain(c)
	case "mynetworks":
		return defaultMynetworks(c, vars)
	case "process_id":
		return strconv.Itoa(os.Getpid()), nil
	case "process_name":
		return filepath.Base(os.Args[0]), nil
	case "mail_version":
		return Version, nil
	default: // mail_release_date
		return ReleaseDate, nil
	}
}

// defaultMyhostname is the host name from gethostname(); an unqualified
// name gets "." and mydomain as set in main.cf (expanded), else
// ".localdomain".
func defaultMyhostname(c *Config, vars map[string]string) (string, error) {
	host, err := hostname()
	if err != nil {
		return "", err
	}
	if strings.Contains(host, ".") {
		return host, nil
	}
	domain := "localdomain"
	if _, set := c.Explicit("mydomain"); set {
		if domain, err = c.getWith("mydomain", vars); err != nil {
			return "", err
		}
	}
	return host + "." + domain, nil
}

// defaultMydomain is myhostname without its first label, or "localdomain"
// when that leaves nothing. Like Postfix it takes myhostname's setting as
// written, unexpanded, else the host name.
func defaultMydomain(c *Config) (string, error) {
	name := ""
	if s, set := c.Explicit("myhostname"); set {
		name = s.Value
	} else {
		var err error
		if name, err = hostname(); err != nil {
			return "", err
		}
	}
	if _, parent, ok := strings.Cut(name, "."); ok && parent != "" {
		return parent, nil
	}
	return "localdomain", nil
}
