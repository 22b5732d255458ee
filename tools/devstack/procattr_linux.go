package devstack

import "syscall"

// procAttr puts a child in its own process group (a signal reaches its children too)
// and has the kernel kill it if the supervising process dies without stopping it
// (SIGKILL, a crash): nobody is left to stop it gracefully. The signal follows the
// thread that started the child, and Go keeps its threads while the process lives.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
