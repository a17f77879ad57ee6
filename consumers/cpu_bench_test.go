package consumers_test

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// cpuMeter measures the CPU time a benchmark spends, per event: this
// process's (the consumer, with kafka-go's goroutines) and the whole
// machine's (the broker's too, when it runs here). Where the cores are all
// busy, the machine's CPU per event, not the wall time, says which
// consumer costs more; where they are not, wall time says how well the
// work overlaps. Like the benchmark's timer, it stops and starts, so the
// setup and shutdown the timer leaves out are left out here too.
type cpuMeter struct {
	proc, machine, wall time.Duration // measured so far
	p0, m0              time.Duration // at the last start
	w0                  time.Time
}

func startCPU() *cpuMeter {
	m := &cpuMeter{}
	m.start()
	return m
}

func (m *cpuMeter) start() { m.p0, m.m0, m.w0 = procCPU(), machineCPU(), time.Now() }

func (m *cpuMeter) stop() {
	m.proc += procCPU() - m.p0
	m.machine += machineCPU() - m.m0
	m.wall += time.Since(m.w0)
}

// report stops m and adds proc-cpu-us/event and machine-cpu-us/event, and
// the cores busy on average (machine CPU over wall time).
func (m *cpuMeter) report(b *testing.B, events float64) {
	m.stop()
	b.ReportMetric(float64(m.proc.Microseconds())/events, "proc-cpu-us/event")
	if m.machine > 0 {
		b.ReportMetric(float64(m.machine.Microseconds())/events, "machine-cpu-us/event")
		b.ReportMetric(m.machine.Seconds()/m.wall.Seconds(), "cores-busy")
	}
}

func procCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// machineCPU is the busy time of all CPUs from /proc/stat (0 where there
// is none): user, nice, system, irq, softirq and steal, in clock ticks of
// 1/100 s.
func machineCPU() time.Duration {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		return 0
	}
	fields := bytes.Fields(sc.Bytes())
	if len(fields) < 9 || string(fields[0]) != "cpu" {
		return 0
	}
	var ticks int64
	for i, f := range fields[1:9] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		n, _ := strconv.ParseInt(string(f), 10, 64)
		ticks += n
	}
	return time.Duration(ticks) * 10 * time.Millisecond
}
