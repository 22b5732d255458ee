//go:build !linux

package devstack

import "syscall"

// procAttr puts a child in its own process group, so a signal reaches its children
// too. Only Linux can tie a child's life to its parent's (procattr_linux.go).
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
