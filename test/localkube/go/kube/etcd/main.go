// Command etcd is the etcd server from the same module graph as the Kubernetes
// components, so the API server always talks to an etcd it was built against.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
