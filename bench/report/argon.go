package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/serverless-shop/backend/functions/users/password"
)

// argonHashes is how many hashes one probe makes.
const argonHashes = 8

// probeArgon is the bench binary run with -probe-argon: it hashes a
// password argonHashes times as the users service does and prints the wall
// time and the CPU time (user + system) per hash, in nanoseconds. CPU time
// does not depend on what else the machine runs; CPU time over wall time is
// how many cores the hash kept busy.
func probeArgon() {
	var before, after syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	start := time.Now()
	for range argonHashes {
		password.Hash("correct horse battery staple", password.Default)
	}
	wall := time.Since(start)
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	cpu := time.Duration(after.Utime.Nano()-before.Utime.Nano()) + time.Duration(after.Stime.Nano()-before.Stime.Nano())
	fmt.Println(wall.Nanoseconds()/argonHashes, cpu.Nanoseconds()/argonHashes)
}

// argonResult is the hash's wall and CPU time per hash, medians of the
// probes, with GOMAXPROCS procs.
type argonResult struct {
	procs     int
	wall, cpu sample
}

// measureArgon runs the argon probe runs times with GOMAXPROCS 1 and 2.
func measureArgon(runs int) []argonResult {
	self, err := os.Executable()
	if err != nil {
		return nil
	}
	res := []argonResult{{procs: 1}, {procs: 2}}
	for range runs {
		for i := range res {
			cmd := exec.Command(self, "-probe-argon")
			cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "GOMAXPROCS=" + strconv.Itoa(res[i].procs)}
			out, err := cmd.Output()
			if err != nil {
				continue
			}
			f := strings.Fields(string(out))
			if len(f) != 2 {
				continue
			}
			w, err1 := strconv.ParseInt(f[0], 10, 64)
			c, err2 := strconv.ParseInt(f[1], 10, 64)
			if err1 == nil && err2 == nil {
				res[i].wall = append(res[i].wall, time.Duration(w))
				res[i].cpu = append(res[i].cpu, time.Duration(c))
			}
		}
	}
	return slices.DeleteFunc(res, func(r argonResult) bool { return len(r.cpu) == 0 || r.procs > runtime.NumCPU() })
}
