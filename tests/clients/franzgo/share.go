package main

// The share-consume command (CONTRACT.md "Share group members", KIP-932): one franz-go share
// group member (kgo.ShareGroup) acknowledging each poll's records explicitly.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

type shareLine struct {
	P  int32 `json:"p"`
	O  int64 `json:"o"`
	DC int32 `json:"dc"`
	At int64 `json:"at"`
}

type ackedLine struct {
	Acked [][2]int64 `json:"acked"`
	Type  string     `json:"type"`
}

// ackErrors gathers the broker's per-partition acknowledgement failures reported to the
// client's ack callback since the last take.
type ackErrors struct {
	mu   sync.Mutex
	errs map[int32]error
}

func (a *ackErrors) add(_ *kgo.Client, rs kgo.ShareAckResults) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, r := range rs {
		if r.Err != nil {
			if a.errs == nil {
				a.errs = map[int32]error{}
			}
			a.errs[r.Partition] = r.Err
		}
	}
}

func (a *ackErrors) take() map[int32]error {
	a.mu.Lock()
	defer a.mu.Unlock()
	e := a.errs
	a.errs = nil
	return e
}

func shareConsume(args []string) (int, error) {
	var bootstrap, topic, group, ack, stopFile string
	var count, timeoutMs, holdMs int
	err := flags("share-consume", args, func(fs *flag.FlagSet) {
		fs.StringVar(&bootstrap, "bootstrap", "", "HOST:PORT[,HOST:PORT...]")
		fs.StringVar(&topic, "topic", "", "topic")
		fs.StringVar(&group, "group", "", "share group")
		fs.IntVar(&count, "count", 1<<31-1, "records to read")
		fs.StringVar(&ack, "ack", "accept", "accept, release, reject, none or crash")
		fs.StringVar(&stopFile, "stop-file", "", "stop once this file exists")
		fs.IntVar(&timeoutMs, "timeout-ms", 60_000, "give up after this long")
		fs.IntVar(&holdMs, "hold-ms", 0, "hold each poll's records this long before acknowledging")
	}, "bootstrap", "topic", "group")
	if err != nil {
		return 0, err
	}
	status := map[string]kgo.AckStatus{
		"accept": kgo.AckAccept, "release": kgo.AckRelease, "reject": kgo.AckReject,
	}
	if _, ok := status[ack]; !ok && ack != "none" && ack != "crash" {
		return 0, usage(fmt.Sprintf("share-consume: --ack must be accept, release, reject, none or crash, not %q", ack))
	}
	deadline := time.Now().Add(time.Duration(timeoutMs) * time.Millisecond)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	errs := &ackErrors{}
	cl, err := kgo.NewClient(append(clientOpts(bootstrap),
		kgo.ShareGroup(group),
		kgo.ConsumeTopics(topic),
		kgo.ShareAckCallback(errs.add),
	)...)
	if err != nil {
		return 0, err
	}
	closed := false
	closeClient := func() {
		if closed {
			return
		}
		closed = true
		cctx, ccancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer ccancel()
		if err := cl.LeaveGroupContext(cctx); err != nil {
			logf("leaving the share group: %v", err)
		}
		cl.Close()
	}
	defer closeClient()

	read := 0
	stopped := false
	for read < count && ctx.Err() == nil {
		if stopFile != "" {
			if _, err := os.Stat(stopFile); err == nil {
				stopped = true
				break
			}
		}
		pctx, pcancel := context.WithTimeout(ctx, 200*time.Millisecond)
		fetches := cl.PollFetches(pctx)
		pcancel()
		fetches.EachError(func(t string, p int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
				logf("share fetch %s/%d: %v", t, p, err)
			}
		})
		got := fetches.Records()
		if len(got) == 0 {
			continue
		}
		at := nowMs()
		for _, r := range got {
			out.print(shareLine{r.Partition, r.Offset, r.DeliveryCount(), at})
			read++
		}
		out.flush()
		if ack == "crash" {
			// Ends the process as a crash would: no acknowledgement, no close, no leave.
			os.Exit(0)
		}
		if ack == "none" {
			// Closing gives back what this member holds (the client releases it).
			stopped = true
			break
		}
		if holdMs > 0 {
			// Holds the records (acquired, not acknowledged) as a slow worker would.
			time.Sleep(time.Duration(holdMs) * time.Millisecond)
		}
		for _, r := range got {
			r.Ack(status[ack])
		}
		fctx, fcancel := context.WithTimeout(context.Background(), 10*time.Second)
		ferr := cl.FlushAcks(fctx)
		fcancel()
		failed := errs.take()
		line := ackedLine{Acked: [][2]int64{}, Type: ack}
		for _, r := range got {
			if e := failed[r.Partition]; e != nil || ferr != nil {
				logf("acknowledgement of %d:%d failed: %v %v", r.Partition, r.Offset, e, ferr)
				continue
			}
			line.Acked = append(line.Acked, [2]int64{int64(r.Partition), r.Offset})
		}
		out.print(line)
		out.flush()
		if ack == "release" || ack == "reject" {
			stopped = true
			break
		}
	}
	if read < count && !stopped {
		logf("read %d records before the timeout", read)
	}
	closeClient()
	out.print(consumeDone{true, read})
	if read >= count || stopped {
		return 0, nil
	}
	return 1, nil
}
