// Command etcd is etcd's own main, built from go.etcd.io/etcd/server/v3 so the
// test cluster needs no prebuilt binary.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
