// Cipher grades (smtp_tls_ciphers, ciphers=), exclusions (exclude=, smtp_tls_exclude_ciphers) and OpenSSL's names of the TLS 1.2 cipher suites.

package tlsconf

import (
	"crypto/tls"
	"fmt"
	"strings"
)

// openSSLNames are OpenSSL's names of the TLS 1.2 (and older) suites
// crypto/tls offers; Postfix logs these. TLS 1.3 suites keep their IANA
// names in both.
var openSSLNames = map[uint16]string{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256:       "ECDHE-ECDSA-AES128-GCM-SHA256",
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384:       "ECDHE-ECDSA-AES256-GCM-SHA384",
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256:         "ECDHE-RSA-AES128-GCM-SHA256",
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384:         "ECDHE-RSA-AES256-GCM-SHA384",
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: "ECDHE-ECDSA-CHACHA20-POLY1305",
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256:   "ECDHE-RSA-CHACHA20-POLY1305",
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA:          "ECDHE-ECDSA-AES128-SHA",
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA:          "ECDHE-ECDSA-AES256-SHA",
	tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA:            "ECDHE-RSA-AES128-SHA",
	tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA:            "ECDHE-RSA-AES256-SHA",
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256:       "ECDHE-ECDSA-AES128-SHA256",
	tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256:         "ECDHE-RSA-AES128-SHA256",
	tls.TLS_RSA_WITH_AES_128_GCM_SHA256:               "AES128-GCM-SHA256",
	tls.TLS_RSA_WITH_AES_256_GCM_SHA384:               "AES256-GCM-SHA384",
	tls.TLS_RSA_WITH_AES_128_CBC_SHA:                  "AES128-SHA",
	tls.TLS_RSA_WITH_AES_256_CBC_SHA:                  "AES256-SHA",
	tls.TLS_RSA_WITH_AES_128_CBC_SHA256:               "AES128-SHA256",
	tls.TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA:           "ECDHE-RSA-DES-CBC3-SHA",
	tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA:                 "DES-CBC3-SHA",
	tls.TLS_ECDHE_ECDSA_WITH_RC4_128_SHA:              "ECDHE-ECDSA-RC4-SHA",
	tls.TLS_ECDHE_RSA_WITH_RC4_128_SHA:                "ECDHE-RSA-RC4-SHA",
	tls.TLS_RSA_WITH_RC4_128_SHA:                      "RC4-SHA",
}

// CipherName is the name Postfix logs for a cipher suite: OpenSSL's.
func CipherName(suite uint16) string {
	if name, ok := openSSLNames[suite]; ok {
		return name
	}
	return tls.CipherSuiteName(suite)
}

// cipherBits is the suite's symmetric key size: used and algorithm bits
// are equal for every suite crypto/tls has but 3DES (112 of 168).
func cipherBits(suite uint16) (used, algorithm int) {
	name := tls.CipherSuiteName(suite)
	switch {
	case strings.Contains(name, "3DES"):
		return 112, 168
	case strings.Contains(name, "AES_128"), strings.Contains(name, "RC4_128"):
		return 128, 128
	}
	return 256, 256
}

// Grades are the cipher grades Postfix knows; "null" (no encryption)
// has no suite in crypto/tls.
var grades = map[string]bool{"high": true, "medium": true, "low": true, "export": true, "null": true}

// CipherSuites are the TLS 1.2 suites for a Postfix cipher grade
// ("high", "medium", ...) minus the exclusions (OpenSSL suite names or
// name components such as "AES128", "RC4", "kRSA", "aECDSA", "CBC").
// Every grade up to export means crypto/tls's secure suites, which are
// all of OpenSSL's HIGH grade; TLS 1.3 suites are not configurable in
// crypto/tls and stay enabled.
func CipherSuites(grade string, exclude []string) ([]uint16, error) {
	grade = strings.ToLower(grade)
	if !grades[grade] {
		return nil, fmt.Errorf("invalid cipher grade: %q", grade)
	}
	if grade == "null" {
		return nil, fmt.Errorf("cipher grade %q: no null ciphers are available", grade)
	}
	var suites []uint16
	for _, s := range tls.CipherSuites() {
		if len(s.SupportedVersions) == 1 && s.SupportedVersions[0] == tls.VersionTLS13 {
			continue
		}
		if !excluded(s.ID, exclude) {
			suites = append(suites, s.ID)
		}
	}
	if len(suites) == 0 {
		return nil, fmt.Errorf("cipher grade %q with exclusions %q: no TLS 1.2 ciphers left", grade, strings.Join(exclude, " "))
	}
	return suites, nil
}

// excluded reports whether an exclusion names the suite or a part of it.
func excluded(suite uint16, exclude []string) bool {
	name := CipherName(suite)
	parts := map[string]bool{}
	for _, p := range strings.Split(name, "-") {
		parts[strings.ToUpper(p)] = true
	}
	iana := tls.CipherSuiteName(suite)
	ecdhe := strings.Contains(iana, "ECDHE")
	if ecdhe {
		parts["KECDHE"], parts["EECDH"] = true, true
	} else {
		parts["KRSA"] = true
	}
	switch {
	case strings.Contains(iana, "ECDSA"):
		parts["AECDSA"] = true
	default:
		parts["ARSA"] = true
	}
	if strings.Contains(iana, "CBC") {
		parts["CBC"] = true
	}
	if strings.Contains(iana, "GCM") {
		parts["AESGCM"], parts["AES"] = true, true
	}
	if strings.Contains(iana, "AES") {
		parts["AES"] = true
	}
	if strings.Contains(iana, "3DES") {
		parts["3DES"] = true
	}
	if strings.HasSuffix(iana, "_SHA") {
		parts["SHA1"] = true
	}
	for _, e := range exclude {
		if strings.EqualFold(e, name) || parts[strings.ToUpper(e)] {
			return true
		}
	}
	return false
}
