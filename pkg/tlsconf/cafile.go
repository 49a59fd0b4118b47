// Trust anchors from a CAfile and a CApath (smtp_tls_CAfile, smtpd_tls_CApath ...).

package tlsconf

import (
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
)

// LoadCAs reads the certificates of file and of the files in dir, the
// values of the parameters prefix+"_tls_CAfile" and prefix+"_tls_CApath";
// with neither it returns nil, which means the system's roots.
func LoadCAs(prefix, file, dir string) (*x509.CertPool, error) {
	if file == "" && dir == "" {
		return nil, nil
	}
	pool := x509.NewCertPool()
	var files []string
	if file != "" {
		files = append(files, file)
	}
	if dir != "" {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("%s_tls_CApath: %w", prefix, err)
		}
		for _, e := range entries {
			if !e.IsDir() {
				files = append(files, filepath.Join(dir, e.Name()))
			}
		}
	}
	for _, f := range files {
		pem, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("cannot load Certification Authority data: %w", err)
		}
		if !pool.AppendCertsFromPEM(pem) && f == file {
			return nil, fmt.Errorf("cannot load Certification Authority data, CAfile=%q: no PEM certificates", f)
		}
	}
	return pool, nil
}
