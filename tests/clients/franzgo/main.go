// Command franzgo-driver is the interop driver for franz-go (pkg/kgo, pkg/kadm), following
// tests/clients/CONTRACT.md: produce, consume (alone or as a group member) and offsets.
//
// JSON lines go to stdout, diagnostics to stderr. Every command is bounded in time and exits by
// itself. Built into .tools/bin/franzgo-driver by scripts/install_test_deps.sh.
//
// Set SKB_FRANZGO_LOG to debug, info (the default), warn or error for the client's own log.
package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// lines writes JSON lines to stdout. Produce promises call it from the client's goroutines.
type lines struct {
	mu sync.Mutex
	w  *bufio.Writer
}

var out = &lines{w: bufio.NewWriterSize(os.Stdout, 1<<16)}

func (l *lines) print(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.w.Write(b)
	l.w.WriteByte('\n')
}

func (l *lines) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.w.Flush()
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "franzgo driver: "+format+"\n", args...)
}

// usage is a command line the driver cannot run: exit status 2.
type usage string

func (u usage) Error() string { return string(u) }

func main() {
	if len(os.Args) < 2 {
		fail(usage("usage: franzgo-driver produce|consume|offsets --bootstrap HOST:PORT ... | --check"))
	}
	var code int
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "--check":
		out.print(map[string]string{"franz-go": franzVersion()})
	case "produce":
		code, err = produce(args)
	case "consume":
		code, err = consume(args)
	case "offsets":
		code, err = offsets(args)
	case "txn":
		code, err = txn(args)
	case "share-consume":
		code, err = shareConsume(args)
	default:
		err = usage(fmt.Sprintf("unknown command %q (franz-go drives produce, consume and offsets)", cmd))
	}
	out.flush()
	if err != nil {
		fail(err)
	}
	os.Exit(code)
}

func fail(err error) {
	logf("%v", err)
	if k := errorKind(err); k != "" {
		printError(k, err)
	}
	if _, ok := errors.AsType[usage](err); ok {
		os.Exit(2)
	}
	os.Exit(1)
}

// franzVersion is the franz-go module version this binary was built with.
func franzVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, m := range info.Deps {
			if m.Path == "github.com/twmb/franz-go" {
				return m.Version
			}
		}
	}
	return "unknown"
}

// flags parses one command's flags; the names in required must be given.
func flags(name string, args []string, define func(*flag.FlagSet), required ...string) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	define(fs)
	defineSecurity(fs)
	if err := fs.Parse(args); err != nil {
		return usage(err.Error())
	}
	if err := buildSecurity(); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usage(fmt.Sprintf("%s: unexpected argument %q", name, fs.Arg(0)))
	}
	seen := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { seen[f.Name] = true })
	for _, r := range required {
		if !seen[r] {
			return usage(fmt.Sprintf("%s: --%s is required", name, r))
		}
	}
	// CONTRACT.md "Security": with --security-protocol, the cluster must answer first.
	if f := fs.Lookup("bootstrap"); f != nil {
		checkConnection(f.Value.String())
	}
	return nil
}

// clientOpts are the options every client here gets: the seed brokers and a logger to stderr.
func clientOpts(bootstrap string) []kgo.Opt {
	level := kgo.LogLevelInfo
	switch os.Getenv("SKB_FRANZGO_LOG") {
	case "debug":
		level = kgo.LogLevelDebug
	case "warn":
		level = kgo.LogLevelWarn
	case "error":
		level = kgo.LogLevelError
	}
	return append([]kgo.Opt{
		kgo.SeedBrokers(strings.Split(bootstrap, ",")...),
		kgo.WithLogger(kgo.BasicLogger(os.Stderr, level, nil)),
	}, secOpts...)
}

// record returns record i of the contract: key, value and headers.
func record(i int) *kgo.Record {
	r := &kgo.Record{}
	if i%10 != 3 {
		r.Key = []byte("key-" + strconv.Itoa(i))
	}
	if i%10 != 7 {
		r.Value = []byte("value-" + strconv.Itoa(i) + "-" + strings.Repeat("x", i%100))
	}
	if i%5 != 0 {
		r.Headers = []kgo.RecordHeader{
			{Key: "trace", Value: []byte("t-" + strconv.Itoa(i))},
			{Key: "idx", Value: []byte(strconv.Itoa(i))},
		}
	}
	return r
}

// The final lines of produce and consume.
type produceDone struct {
	Done   bool `json:"done"`
	Count  int  `json:"count"`
	Errors int  `json:"errors"`
}

type consumeDone struct {
	Done  bool `json:"done"`
	Count int  `json:"count"`
}

var codecs = map[string]kgo.CompressionCodec{
	"none":   kgo.NoCompression(),
	"gzip":   kgo.GzipCompression(),
	"snappy": kgo.SnappyCompression(),
	"lz4":    kgo.Lz4Compression(),
	"zstd":   kgo.ZstdCompression(),
}

func produce(args []string) (int, error) {
	var bootstrap, topic, compression, acks string
	var count, start, createPartitions, timeoutMs int
	err := flags("produce", args, func(fs *flag.FlagSet) {
		fs.StringVar(&bootstrap, "bootstrap", "", "HOST:PORT[,HOST:PORT...]")
		fs.StringVar(&topic, "topic", "", "topic")
		fs.IntVar(&count, "count", 0, "records to produce")
		fs.IntVar(&start, "start", 0, "index of the first record")
		fs.StringVar(&compression, "compression", "none", "none, gzip, snappy, lz4 or zstd")
		fs.IntVar(&createPartitions, "create-partitions", 0, "create the topic with this many partitions first")
		fs.StringVar(&acks, "acks", "", "all, 1 or 0 (default: the client's)")
		fs.IntVar(&timeoutMs, "timeout-ms", 120_000, "bound on the whole run")
	}, "bootstrap", "topic", "count")
	if err != nil {
		return 0, err
	}
	codec, ok := codecs[compression]
	if !ok {
		return 0, usage(fmt.Sprintf("produce: unknown compression %q", compression))
	}
	opts := append(clientOpts(bootstrap), kgo.DefaultProduceTopic(topic), kgo.ProducerBatchCompression(codec))
	switch acks {
	case "":
	case "all":
		opts = append(opts, kgo.RequiredAcks(kgo.AllISRAcks()))
	case "1", "0":
		// The idempotent producer (franz-go's default) needs acks=all.
		a := kgo.LeaderAck()
		if acks == "0" {
			a = kgo.NoAck()
		}
		opts = append(opts, kgo.RequiredAcks(a), kgo.DisableIdempotentWrite())
	default:
		return 0, usage(fmt.Sprintf("produce: unknown acks %q", acks))
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(timeoutMs)*time.Millisecond)
	defer cancel()
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return 0, err
	}
	acked := 0
	if createPartitions > 0 {
		if err := createTopic(ctx, cl, topic, createPartitions); err != nil {
			cl.Close()
			out.print(produceDone{true, 0, count})
			return 1, err
		}
	}

	var mu sync.Mutex // guards acked
	var promised sync.WaitGroup
	for i := start; i < start+count; i++ {
		promised.Add(1)
		cl.Produce(ctx, record(i), func(r *kgo.Record, err error) {
			defer promised.Done()
			if err != nil {
				logf("record %d: delivery failed: %v", i, err)
				return
			}
			out.print(struct {
				I int   `json:"i"`
				P int32 `json:"p"`
				O int64 `json:"o"`
			}{i, r.Partition, r.Offset})
			mu.Lock()
			acked++
			mu.Unlock()
		})
	}
	if err := cl.Flush(ctx); err != nil {
		logf("flush: %v", err)
	}
	cl.Close() // fails whatever is still buffered, so every promise gets called
	if !waitFor(&promised, 10*time.Second) {
		logf("some delivery reports never came")
	}
	mu.Lock()
	defer mu.Unlock()
	out.print(produceDone{true, acked, count - acked})
	if acked != count {
		return 1, nil
	}
	return 0, nil
}

// waitFor waits for wg at most d; false when it timed out.
func waitFor(wg *sync.WaitGroup, d time.Duration) bool {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

// createTopic creates topic with the given partitions (replication factor 1) through kadm;
// "already exists" is not an error. Then waits until every partition has a leader.
func createTopic(ctx context.Context, cl *kgo.Client, topic string, partitions int) error {
	adm := kadm.NewClient(cl)
	resps, err := adm.CreateTopics(ctx, int32(partitions), 1, nil, topic)
	if err != nil {
		return fmt.Errorf("create topic %s: %w", topic, err)
	}
	for _, r := range resps.Sorted() {
		switch {
		case r.Err == nil:
			logf("created topic %s with %d partitions", r.Topic, partitions)
		case errors.Is(r.Err, kerr.TopicAlreadyExists):
			logf("topic %s already exists", r.Topic)
		default:
			return fmt.Errorf("create topic %s: %w (%s)", r.Topic, r.Err, r.ErrMessage)
		}
	}
	_, err = partitionsOf(ctx, adm, topic, partitions)
	return err
}

// partitionsOf waits until topic's metadata shows at least min partitions, each with a leader,
// and returns them in order.
func partitionsOf(ctx context.Context, adm *kadm.Client, topic string, min int) ([]int32, error) {
	for {
		md, err := adm.Metadata(ctx, topic)
		var problem error = err
		if err == nil {
			td, ok := md.Topics[topic]
			switch {
			case !ok:
				problem = errors.New("not in the metadata")
			case td.Err != nil:
				problem = td.Err
			case len(td.Partitions) < min:
				problem = fmt.Errorf("%d partitions, waiting for %d", len(td.Partitions), min)
			default:
				var ps []int32
				for _, p := range td.Partitions.Sorted() {
					if p.Err != nil || p.Leader < 0 {
						problem = fmt.Errorf("partition %d: leader %d, error %v", p.Partition, p.Leader, p.Err)
						break
					}
					ps = append(ps, p.Partition)
				}
				if problem == nil {
					return ps, nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("metadata of %s: %v (%w)", topic, problem, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func b64(b []byte) *string {
	if b == nil {
		return nil
	}
	s := base64.StdEncoding.EncodeToString(b)
	return &s
}

func nowMs() int64 { return time.Now().UnixMilli() }

// consumed is a record line; At is set for group members only.
type consumed struct {
	P  int32    `json:"p"`
	O  int64    `json:"o"`
	K  *string  `json:"k"`
	V  *string  `json:"v"`
	H  [][2]any `json:"h"`
	TS int64    `json:"ts"`
	At int64    `json:"at,omitempty"`
}

func printRecord(r *kgo.Record, at int64) {
	h := make([][2]any, 0, len(r.Headers))
	for _, x := range r.Headers {
		h = append(h, [2]any{x.Key, b64(x.Value)})
	}
	out.print(consumed{r.Partition, r.Offset, b64(r.Key), b64(r.Value), h, r.Timestamp.UnixMilli(), at})
}

type consumeArgs struct {
	bootstrap, topic, group, stopFile, assignor, protocol, isolation string
	count, timeoutMs                                                 int
}

func consume(args []string) (int, error) {
	var a consumeArgs
	err := flags("consume", args, func(fs *flag.FlagSet) {
		fs.StringVar(&a.bootstrap, "bootstrap", "", "HOST:PORT[,HOST:PORT...]")
		fs.StringVar(&a.topic, "topic", "", "topic")
		fs.IntVar(&a.count, "count", 0, "records to read")
		fs.StringVar(&a.group, "group", "", "consume as a member of this group")
		fs.IntVar(&a.timeoutMs, "timeout-ms", 60_000, "give up after this long")
		fs.StringVar(&a.stopFile, "stop-file", "", "stop once this file exists")
		fs.StringVar(&a.assignor, "assignor", "", "range, roundrobin, cooperative-sticky, sticky; uniform or range with --group-protocol consumer")
		fs.StringVar(&a.protocol, "group-protocol", "classic", "classic or consumer (KIP-848)")
		fs.StringVar(&a.isolation, "isolation", "", "read_committed or read_uncommitted")
	}, "bootstrap", "topic", "count")
	if err != nil {
		return 0, err
	}
	if a.group != "" {
		return consumeGroup(a)
	}
	deadline := time.Now().Add(time.Duration(a.timeoutMs) * time.Millisecond)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()

	// Every partition of the topic, from metadata, each from offset 0.
	md, err := kgo.NewClient(clientOpts(a.bootstrap)...)
	if err != nil {
		return 0, err
	}
	parts, err := partitionsOf(ctx, kadm.NewClient(md), a.topic, 1)
	md.Close()
	if err != nil {
		out.print(consumeDone{true, 0})
		return 1, err
	}
	assign := map[int32]kgo.Offset{}
	for _, p := range parts {
		assign[p] = kgo.NewOffset().At(0)
	}
	opts := append(clientOpts(a.bootstrap),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{a.topic: assign}))
	switch a.isolation {
	case "":
	case "read_committed":
		opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	case "read_uncommitted":
		opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadUncommitted()))
	default:
		return 0, usage("consume: --isolation must be read_committed or read_uncommitted")
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	read := 0
	for read < a.count && ctx.Err() == nil {
		fetches := cl.PollFetches(ctx)
		logFetchErrors(fetches)
		for it := fetches.RecordIter(); !it.Done() && read < a.count; read++ {
			printRecord(it.Next(), 0)
		}
	}
	out.print(consumeDone{true, read})
	if read < a.count {
		return 1, nil
	}
	return 0, nil
}

// logFetchErrors logs a poll's errors, except the end of the poll's own context.
func logFetchErrors(f kgo.Fetches) {
	f.EachError(func(t string, p int32, err error) {
		if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
			logf("fetch %s/%d: %v", t, p, err)
		}
	})
}

// balancer maps --assignor to franz-go's balancer. With the consumer protocol franz-go asks
// the broker for "uniform" when its balancer is a sticky one and "range" for the range one.
func balancer(assignor, protocol string) ([]kgo.GroupOpt, error) {
	var b kgo.GroupBalancer
	switch protocol + "/" + assignor {
	case "classic/", "consumer/":
		return nil, nil // franz-go's default: cooperative-sticky, or "uniform" server-side
	case "classic/range", "consumer/range":
		b = kgo.RangeBalancer()
	case "classic/roundrobin":
		b = kgo.RoundRobinBalancer()
	case "classic/sticky":
		b = kgo.StickyBalancer()
	case "classic/cooperative-sticky", "consumer/uniform":
		b = kgo.CooperativeStickyBalancer()
	default:
		return nil, usage(fmt.Sprintf("consume: franz-go has no assignor %q for the %s group protocol", assignor, protocol))
	}
	return []kgo.GroupOpt{kgo.Balancers(b)}, nil
}

// member is a group member (CONTRACT.md, "Group members"). Its poll loop and the client's
// revocation callbacks (run on the client's goroutines) share mu, so a commit never names a
// partition revoked since the records were polled.
type member struct {
	topic string
	cl    *kgo.Client

	mu sync.Mutex
	// pending: partition -> the offset after the last record printed, not committed yet.
	pending map[int32]kgo.EpochOffset
	// seq counts revocations; revokedAt[p] is seq when p was last revoked or lost.
	seq       uint64
	revokedAt map[int32]uint64
}

// commitLocked commits what is pending, synchronously (30 s at most), and forgets it whatever
// happens.
func (m *member) commitLocked(ctx context.Context) {
	if len(m.pending) == 0 {
		return
	}
	offsets := m.pending
	m.pending = map[int32]kgo.EpochOffset{}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var failed []string
	var done [][2]int64
	m.cl.CommitOffsetsSync(ctx, map[string]map[int32]kgo.EpochOffset{m.topic: offsets},
		func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
			if err != nil {
				failed = append(failed, err.Error())
				return
			}
			for _, t := range resp.Topics {
				for _, p := range t.Partitions {
					if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
						failed = append(failed, fmt.Sprintf("%d: %v", p.Partition, err))
					} else if o, ok := offsets[p.Partition]; ok {
						done = append(done, [2]int64{int64(p.Partition), o.Offset})
					}
				}
			}
		})
	if len(failed) > 0 {
		// The records may be read again by whoever owns the partitions next.
		logf("commit of %v failed: %s", offsets, strings.Join(failed, "; "))
	}
	if len(done) > 0 {
		slices.SortFunc(done, func(x, y [2]int64) int { return int(x[0] - y[0]) })
		out.print(struct {
			Commit [][2]int64 `json:"commit"`
			At     int64      `json:"at"`
		}{done, nowMs()})
		out.flush()
	}
}

// forgetLocked drops what is pending on partitions the member no longer owns.
func (m *member) forgetLocked(parts map[string][]int32) {
	m.seq++
	for _, p := range parts[m.topic] {
		delete(m.pending, p)
		m.revokedAt[p] = m.seq
	}
}

func (m *member) onAssigned(_ context.Context, _ *kgo.Client, assigned map[string][]int32) {
	logf("assigned %v", assigned[m.topic])
}

func (m *member) onRevoked(ctx context.Context, _ *kgo.Client, revoked map[string][]int32) {
	m.mu.Lock()
	defer m.mu.Unlock()
	logf("revoked %v", revoked[m.topic])
	m.commitLocked(ctx) // hand over exactly what was printed
	m.forgetLocked(revoked)
}

func (m *member) onLost(_ context.Context, _ *kgo.Client, lost map[string][]int32) {
	m.mu.Lock()
	defer m.mu.Unlock()
	logf("lost %v", lost[m.topic])
	m.forgetLocked(lost)
}

func consumeGroup(a consumeArgs) (int, error) {
	if a.protocol != "classic" && a.protocol != "consumer" {
		return 0, usage(fmt.Sprintf("consume: unknown group protocol %q", a.protocol))
	}
	groupOpts, err := balancer(a.assignor, a.protocol)
	if err != nil {
		return 0, err
	}
	m := &member{topic: a.topic, pending: map[int32]kgo.EpochOffset{}, revokedAt: map[int32]uint64{}}
	opts := append(clientOpts(a.bootstrap),
		kgo.ConsumerGroup(a.group),
		kgo.ConsumeTopics(a.topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.DisableAutoCommit(),
		kgo.OnPartitionsAssigned(m.onAssigned),
		kgo.OnPartitionsRevoked(m.onRevoked),
		kgo.OnPartitionsLost(m.onLost),
	)
	for _, o := range groupOpts {
		opts = append(opts, o)
	}
	if a.protocol == "consumer" {
		opts = append(opts, kgo.ServerSideBalancer())
	}
	if m.cl, err = kgo.NewClient(opts...); err != nil {
		return 0, err
	}
	ctx := context.Background()
	deadline := time.Now().Add(time.Duration(a.timeoutMs) * time.Millisecond)
	read, stopped := 0, false
	for read < a.count {
		if a.stopFile != "" {
			if _, err := os.Stat(a.stopFile); err == nil {
				stopped = true
				break
			}
		}
		left := time.Until(deadline)
		if left <= 0 {
			logf("timed out after %d of %d records", read, a.count)
			break
		}
		m.mu.Lock()
		polledAt := m.seq
		m.mu.Unlock()
		pctx, cancel := context.WithTimeout(ctx, min(200*time.Millisecond, left))
		fetches := m.cl.PollFetches(pctx)
		cancel()
		if fetches.IsClientClosed() {
			logf("the client closed")
			break
		}
		logFetchErrors(fetches)
		m.mu.Lock()
		at, dropped := nowMs(), 0
		for it := fetches.RecordIter(); !it.Done() && read < a.count; {
			r := it.Next()
			if m.revokedAt[r.Partition] > polledAt {
				dropped++ // revoked while this poll ran: its next owner reads it
				continue
			}
			printRecord(r, at)
			m.pending[r.Partition] = kgo.EpochOffset{Epoch: r.LeaderEpoch, Offset: r.Offset + 1}
			read++
		}
		if dropped > 0 {
			logf("dropped %d polled records of partitions revoked meanwhile", dropped)
		}
		out.flush()
		m.commitLocked(ctx)
		m.mu.Unlock()
	}
	m.mu.Lock()
	m.commitLocked(ctx)
	m.mu.Unlock()
	// Leave the group; the revocation callback runs once more with nothing pending.
	closed := make(chan struct{})
	go func() {
		m.cl.Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(30 * time.Second):
		logf("closing the client took over 30 s; exiting without it")
	}
	out.print(consumeDone{true, read})
	if read < a.count && !stopped {
		return 1, nil
	}
	return 0, nil
}

func offsets(args []string) (int, error) {
	var bootstrap, topic string
	var timestamp int64
	var timeoutMs int
	err := flags("offsets", args, func(fs *flag.FlagSet) {
		fs.StringVar(&bootstrap, "bootstrap", "", "HOST:PORT[,HOST:PORT...]")
		fs.StringVar(&topic, "topic", "", "topic")
		fs.Int64Var(&timestamp, "timestamp", 0, "ms since the epoch")
		fs.IntVar(&timeoutMs, "timeout-ms", 30_000, "bound on the whole run")
	}, "bootstrap", "topic", "timestamp")
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(timeoutMs)*time.Millisecond)
	defer cancel()
	cl, err := kgo.NewClient(clientOpts(bootstrap)...)
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	parts, err := partitionsOf(ctx, adm, topic, 1)
	if err != nil {
		return 1, err
	}
	list := func(what string, f func() (kadm.ListedOffsets, error)) (kadm.ListedOffsets, error) {
		l, err := f()
		if err == nil {
			err = l.Error()
		}
		if err != nil {
			return nil, fmt.Errorf("%s offsets of %s: %w", what, topic, err)
		}
		return l, nil
	}
	starts, err := list("start", func() (kadm.ListedOffsets, error) { return adm.ListStartOffsets(ctx, topic) })
	if err != nil {
		return 1, err
	}
	ends, err := list("end", func() (kadm.ListedOffsets, error) { return adm.ListEndOffsets(ctx, topic) })
	if err != nil {
		return 1, err
	}
	byTs, err := list("by timestamp", func() (kadm.ListedOffsets, error) {
		return adm.ListOffsetsAfterMilli(ctx, timestamp, topic)
	})
	if err != nil {
		return 1, err
	}
	for _, p := range parts {
		s, _ := starts.Lookup(topic, p)
		e, _ := ends.Lookup(topic, p)
		t, ok := byTs.Lookup(topic, p)
		// kadm answers the end offset when no record reaches the timestamp (Kafka says -1).
		by := t.Offset
		if !ok || by < 0 || by >= e.Offset {
			by = -1
		}
		out.print(struct {
			P           int32 `json:"p"`
			Earliest    int64 `json:"earliest"`
			Latest      int64 `json:"latest"`
			ByTimestamp int64 `json:"byTimestamp"`
		}{p, s.Offset, e.Offset, by})
	}
	out.print(struct {
		Done bool `json:"done"`
	}{true})
	return 0, nil
}
