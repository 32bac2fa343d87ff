// Command pause is the pod sandbox process for the local one-node cluster: it holds the pod's
// namespaces, reaps orphaned children (it is PID 1 there) and exits on SIGTERM/SIGINT. It stands in
// for registry.k8s.io/pause, which cannot be pulled here; it is built locally and imported into
// containerd by scripts/setup-node.sh.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sig := make(chan os.Signal, 8)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	for s := range sig {
		if s != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			var ws syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
