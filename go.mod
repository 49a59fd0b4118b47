module github.com/postern/postern

go 1.26

require (
	github.com/d--j/go-milter v0.10.1
	github.com/emersion/go-sasl v0.0.0-20241020182733-b788ff22d5a6
	github.com/emersion/go-smtp v0.25.1
	github.com/fsnotify/fsnotify v1.9.0
	github.com/miekg/dns v1.1.68
	go.etcd.io/bbolt v1.4.3
	golang.org/x/sys v0.38.0
	golang.org/x/text v0.31.0
)

require (
	github.com/emersion/go-message v0.18.2 // indirect
	golang.org/x/mod v0.29.0 // indirect
	golang.org/x/net v0.46.0 // indirect
	golang.org/x/sync v0.18.0 // indirect
	golang.org/x/tools v0.38.0 // indirect
)
