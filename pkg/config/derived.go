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

// deriveDefault computes name's default from the host and the
// configuration c; ok is false when name has a static default instead.
func deriveDefault(c *Config, name string) (value string, ok bool, err error) {
	switch name {
	case "myhostname":
		value, err = defaultMyhostname(c)
	case "mydomain":
		value, err = defaultMydomain(c)
	case "mynetworks":
		value, err = defaultMynetworks(c)
	case "process_id":
		value = strconv.Itoa(os.Getpid())
	case "process_name":
		value = filepath.Base(os.Args[0])
	case "mail_version":
		value = Version
	case "mail_release_date":
		value = ReleaseDate
	default:
		return "", false, nil
	}
	return value, true, err
}

// defaultMyhostname is the host name from gethostname(); an unqualified
// name gets ".$mydomain" (as set in main.cf, else "localdomain").
func defaultMyhostname(c *Config) (string, error) {
	host, err := hostname()
	if err != nil {
		return "", err
	}
	if strings.Contains(host, ".") {
		return host, nil
	}
	domain := "localdomain"
	if _, set := c.Explicit("mydomain"); set {
		if domain, err = c.Get("mydomain"); err != nil {
			return "", err
		}
	}
	return host + "." + domain, nil
}

// defaultMydomain is myhostname (as set, else the host name) without its
// first label, or "localdomain" when that leaves nothing.
func defaultMydomain(c *Config) (string, error) {
	var name string
	var err error
	if _, set := c.Explicit("myhostname"); set {
		name, err = c.Get("myhostname")
	} else {
		name, err = hostname()
	}
	if err != nil {
		return "", err
	}
	if _, parent, ok := strings.Cut(name, "."); ok && parent != "" {
		return parent, nil
	}
	return "localdomain", nil
}
