// The workloads of `make compare` in Go: the same algorithms and sizes as
// tools/compare/workloads.c, the same arguments and output. Objects the
// algorithms drop go through a global sink where escape analysis could
// otherwise keep them on the stack, so every one is a heap allocation, as
// on the other side. The STW pauses come from GODEBUG=gctrace=1, which
// compare.py parses (max_pause_ns is -1 here).
//
//	workloads binary-trees DEPTH THREADS | gcbench | churn SIZE THREADS | ring K | mark chain|random|tree
package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	churnAllocs = 10000000
	ringReplace = 10000000
	ringObj     = 64
	btMin       = 4
)

type node struct{ l, r *node }

type gnode struct {
	left, right *gnode
	i, j        int32
}

var sink []byte // defeats escape analysis for dropped byte objects

func die(msg string) {
	fmt.Fprintln(os.Stderr, "workloads:", msg)
	os.Exit(1)
}

func bottomUp(depth uint) *node {
	n := &node{}
	if depth > 0 {
		n.l = bottomUp(depth - 1)
		n.r = bottomUp(depth - 1)
	}
	return n
}

func check(n *node) uint64 {
	if n.l == nil {
		return 1
	}
	return 1 + check(n.l) + check(n.r)
}

func binaryTrees(max uint, threads int) {
	stretch := bottomUp(max + 1)
	if check(stretch) != (2<<(max+1))-1 {
		die("binary-trees: wrong stretch tree")
	}
	longLived := bottomUp(max)
	sums := make([]uint64, threads)
	var wg sync.WaitGroup
	for k := 0; k < threads; k++ {
		wg.Add(1)
		go func(k int) { // iterations k, k + T, ... of every depth, as in C
			defer wg.Done()
			var sum uint64
			for d := uint(btMin); d <= max; d += 2 {
				iters := uint64(1) << (max - d + btMin)
				for i := uint64(k); i < iters; i += uint64(threads) {
					sum += check(bottomUp(d))
				}
			}
			sums[k] = sum
		}(k)
	}
	wg.Wait()
	var sum, want uint64
	for _, s := range sums {
		sum += s
	}
	for d := uint(btMin); d <= max; d += 2 {
		want += (uint64(1) << (max - d + btMin)) * ((2 << d) - 1)
	}
	if sum != want || check(longLived) != (2<<max)-1 {
		die("binary-trees: wrong node counts")
	}
}

func treeSize(d int) int { return (1 << (d + 1)) - 1 }

func populate(depth int, n *gnode) {
	if depth <= 0 {
		return
	}
	depth--
	n.left = &gnode{}
	n.right = &gnode{}
	populate(depth, n.left)
	populate(depth, n.right)
}

func makeTree(depth int) *gnode {
	if depth <= 0 {
		return &gnode{}
	}
	return &gnode{left: makeTree(depth - 1), right: makeTree(depth - 1)}
}

func gcount(n *gnode) int {
	if n == nil {
		return 0
	}
	return 1 + gcount(n.left) + gcount(n.right)
}

var gsink *gnode

func gcbench() {
	gsink = makeTree(18)
	gsink = nil
	longLived := &gnode{}
	populate(16, longLived)
	array := make([]float64, 500000)
	for i := 0; i < 500000/2; i++ {
		array[i] = 1.0 / float64(i)
	}
	for d := 4; d <= 16; d += 2 {
		iters := 2 * treeSize(18) / treeSize(d)
		for i := 0; i < iters; i++ {
			gsink = &gnode{}
			populate(d, gsink)
		}
		for i := 0; i < iters; i++ {
			gsink = makeTree(d)
		}
	}
	gsink = nil
	if gcount(longLived) != treeSize(16) || array[1000] != 1.0/1000 {
		die("gcbench: the long-lived data changed")
	}
}

var sinks [8][]byte

func churn(size int, threads int) {
	per := churnAllocs / threads
	var wg sync.WaitGroup
	for k := 0; k < threads; k++ {
		wg.Add(1)
		go func(k int) {
			defer wg.Done()
			for i := 0; i < per; i++ {
				p := make([]byte, size)
				p[0] = byte(i) // touch it
				sinks[k] = p
			}
			sinks[k] = nil
		}(k)
	}
	wg.Wait()
}

func ring(k int) time.Duration {
	slots := make([][]byte, k)
	for i := range slots {
		slots[i] = make([]byte, ringObj)
	}
	t0 := time.Now()
	for i := 0; i < ringReplace; i++ {
		p := make([]byte, ringObj)
		p[0] = byte(i)
		slots[i%k] = p
	}
	t := time.Since(t0)
	runtime.KeepAlive(slots)
	return t
}

// mark: workloads.c's mark, the same graph (a global root; the table is
// dropped before the collections, as workloads.c frees its own).
const (
	markHeap   = 256 << 20
	markCycles = 2
)

type mnode struct{ p [8]*mnode }

var markRoot *mnode

func xorshift(x *uint64) uint64 {
	*x ^= *x << 13
	*x ^= *x >> 7
	*x ^= *x << 17
	return *x
}

// markBuild: the graph of shape chain or random, reachable from markRoot.
func markBuild(wide bool) {
	n := uint64(markHeap / 64)
	seed := uint64(88172645463325252)
	v := make([]*mnode, n)
	for i := range v {
		v[i] = new(mnode)
	}
	for i := n - 1; i > 0; i-- {
		j := xorshift(&seed) % (i + 1)
		v[i], v[j] = v[j], v[i]
	}
	for i := uint64(0); i < n; i++ {
		for k := uint64(0); k < 8; k++ {
			if wide && k > 0 {
				v[i].p[k] = v[xorshift(&seed)%n]
			} else {
				v[i].p[k] = v[(i+1+k)%n]
			}
		}
	}
	markRoot = v[0]
}

// markTree: binary-trees' tree of depth markTreeDepth (2^24 - 1 nodes of
// 16 bytes), built depth first as workloads.c's is.
var treeRoot *node

const markTreeDepth = 23

func countNodes(n *node) uint64 {
	if n.l == nil {
		return 1
	}
	return 1 + countNodes(n.l) + countNodes(n.r)
}

func mark(shape string) (time.Duration, uint32) {
	wide, tree := shape == "random", shape == "tree"
	if !wide && !tree && shape != "chain" {
		die("mark: chain, random or tree")
	}
	old := debug.SetGCPercent(-1) // the collector held off while building
	if tree {
		treeRoot = bottomUp(markTreeDepth)
	} else {
		markBuild(wide)
	}
	debug.SetGCPercent(old)
	runtime.GC()
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	t0 := time.Now()
	for i := 0; i < markCycles; i++ {
		runtime.GC()
	}
	t := time.Since(t0)
	runtime.ReadMemStats(&ms1)
	n, length := uint64(markHeap/64), uint64(0)
	if tree {
		n, length = uint64(2)<<markTreeDepth-1, countNodes(treeRoot)
	} else {
		for x := markRoot; ; {
			x, length = x.p[0], length+1
			if x == markRoot || length > n {
				break
			}
		}
	}
	if length != n {
		die("mark: the graph changed")
	}
	return t / markCycles, ms1.NumGC - ms0.NumGC
}

// peakRSSKiB: VmHWM, as workloads.c reports it.
func peakRSSKiB() int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			f := strings.Fields(line[6:])
			if len(f) > 0 {
				if v, err := strconv.Atoi(f[0]); err == nil {
					return v
				}
			}
		}
	}
	return -1
}

func arg(i int, def int) int {
	if len(os.Args) <= i {
		return def
	}
	v, err := strconv.Atoi(os.Args[i])
	if err != nil {
		die("bad number " + os.Args[i])
	}
	return v
}

func main() {
	if len(os.Args) < 2 {
		die("usage: workloads binary-trees DEPTH THREADS | gcbench | churn SIZE THREADS | ring K | mark chain|random|tree")
	}
	if os.Args[1] == "mark" && len(os.Args) > 2 {
		t, cycles := mark(os.Args[2])
		fmt.Printf("time_ns %d\nmax_pause_ns -1\ngc_cycles %d\npeak_rss_kib %d\n", t.Nanoseconds(), cycles,
			peakRSSKiB())
		return
	}
	a, b := arg(2, 0), arg(3, 1)
	if b < 1 || b > 8 {
		die("1 to 8 threads")
	}
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	var t time.Duration
	switch w := os.Args[1]; {
	case w == "ring" && a >= 1:
		t = ring(a)
	case w == "binary-trees" && a >= btMin && a <= 24:
		t0 := time.Now()
		binaryTrees(uint(a), b)
		t = time.Since(t0)
	case w == "gcbench":
		t0 := time.Now()
		gcbench()
		t = time.Since(t0)
	case w == "churn" && a >= 8 && a <= 4096:
		t0 := time.Now()
		churn(a, b)
		t = time.Since(t0)
	default:
		die("unknown workload or bad size")
	}
	runtime.ReadMemStats(&ms1)
	sink = nil
	fmt.Printf("time_ns %d\nmax_pause_ns -1\ngc_cycles %d\npeak_rss_kib %d\n", t.Nanoseconds(),
		ms1.NumGC-ms0.NumGC, peakRSSKiB())
}
