module github.com/postern/postern

go 1.26

require (
	github.com/fsnotify/fsnotify v1.9.0 // indirect
	go.etcd.io/bbolt v1.4.3 // indirect
	golang.org/x/sys v0.38.0 // indirect
	golang.org/x/text v0.31.0 // indirect
)
