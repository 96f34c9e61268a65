package main

// The txn command (CONTRACT.md "Transactions"): consume-transform-produce through a
// kgo.GroupTransactSession, whose End commits the offsets polled in the transaction
// (TxnOffsetCommit). Its aborts carry no offsets: End(TryAbort) sends none (it rewinds the
// member to the committed offsets instead).

import (
	"context"
	"errors"
	"flag"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

type txnDone struct {
	Done    bool `json:"done"`
	Count   int  `json:"count"`
	Commits int  `json:"commits"`
	Aborts  int  `json:"aborts"`
}

func txn(args []string) (int, error) {
	var bootstrap, in, outTopic, group, txnID, holdFile string
	var count, abortEvery, timeoutMs int
	err := flags("txn", args, func(fs *flag.FlagSet) {
		fs.StringVar(&bootstrap, "bootstrap", "", "HOST:PORT[,HOST:PORT...]")
		fs.StringVar(&in, "in", "", "input topic")
		fs.StringVar(&outTopic, "out", "", "output topic")
		fs.StringVar(&group, "group", "", "group")
		fs.StringVar(&txnID, "txn-id", "", "transactional.id")
		fs.IntVar(&count, "count", 0, "records to process")
		fs.IntVar(&abortEvery, "abort-every", 0, "abort a transaction after every K-th commit")
		fs.StringVar(&holdFile, "hold-file", "", "hold a transaction open until this file exists")
		fs.IntVar(&timeoutMs, "timeout-ms", 60_000, "give up after this long")
	}, "bootstrap", "in", "out", "group", "txn-id", "count")
	if err != nil {
		return 0, err
	}
	deadline := time.Now().Add(time.Duration(timeoutMs) * time.Millisecond)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()

	md, err := kgo.NewClient(clientOpts(bootstrap)...)
	if err != nil {
		return 0, err
	}
	outParts, err := partitionsOf(ctx, kadm.NewClient(md), outTopic, 1)
	md.Close()
	if err != nil {
		return 1, err
	}
	s, err := kgo.NewGroupTransactSession(append(clientOpts(bootstrap),
		kgo.TransactionalID(txnID),
		kgo.ConsumerGroup(group),
		kgo.ConsumeTopics(in),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.RequireStableFetchOffsets(),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
	)...)
	if err != nil {
		return 0, err
	}
	defer s.Close()

	read, commits, aborts := 0, 0, 0
	abortOne := func() error {
		if err := s.Begin(); err != nil {
			return err
		}
		for _, p := range outParts {
			v := "aborted:" + strconv.Itoa(aborts) + ":" + strconv.Itoa(int(p))
			s.Produce(ctx, &kgo.Record{Topic: outTopic, Partition: p, Value: []byte(v)}, nil)
		}
		if err := s.Client().Flush(ctx); err != nil {
			return err
		}
		if _, err := s.End(ctx, kgo.TryAbort); err != nil {
			return err
		}
		aborts++
		out.print(map[string]int{"abort": len(outParts)})
		return nil
	}
	for read < count && ctx.Err() == nil {
		fetches := s.PollRecords(ctx, 100)
		logFetchErrors(fetches)
		recs := fetches.Records()
		if len(recs) == 0 {
			continue
		}
		if err := s.Begin(); err != nil {
			return 1, err
		}
		next := map[int32]int64{}
		for _, r := range recs {
			v := strconv.Itoa(int(r.Partition)) + ":" + strconv.FormatInt(r.Offset, 10)
			s.Produce(ctx, &kgo.Record{Topic: outTopic, Partition: r.Partition, Key: r.Key, Value: []byte(v)},
				func(_ *kgo.Record, err error) {
					if err != nil {
						logf("produce: %v", err)
					}
				})
			next[r.Partition] = r.Offset + 1
		}
		committed, err := s.End(ctx, kgo.TryCommit)
		if err != nil {
			return 1, err
		}
		if !committed {
			logf("a transaction of %d records aborted (a rebalance); they are processed again", len(recs))
			continue
		}
		read += len(recs)
		commits++
		var pairs [][2]int64
		for p, o := range next {
			pairs = append(pairs, [2]int64{int64(p), o})
		}
		slices.SortFunc(pairs, func(a, b [2]int64) int { return int(a[0] - b[0]) })
		out.print(map[string]any{"commit": pairs, "records": len(recs)})
		out.flush()
		if abortEvery > 0 && commits%abortEvery == 0 {
			if err := abortOne(); err != nil {
				return 1, err
			}
		}
	}
	if read >= count {
		if err := abortOne(); err != nil {
			return 1, err
		}
	}
	fenced := ""
	if holdFile != "" {
		cl := s.Client()
		if err := cl.LeaveGroupContext(ctx); err != nil {
			logf("leaving the group: %v", err)
		}
		if err := cl.BeginTransaction(); err != nil {
			return 1, err
		}
		for _, p := range outParts {
			v := "held:" + strconv.Itoa(int(p))
			cl.Produce(ctx, &kgo.Record{Topic: outTopic, Partition: p, Value: []byte(v)}, nil)
		}
		if err := cl.Flush(ctx); err != nil {
			return 1, err
		}
		out.print(map[string]bool{"held": true})
		out.flush()
		for ctx.Err() == nil {
			if _, err := os.Stat(holdFile); err == nil {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		err := cl.EndTransaction(ctx, kgo.TryCommit)
		if err == nil {
			logf("the held transaction committed: the producer was not fenced")
		} else {
			fenced = err.Error()
			if ke, ok := errors.AsType[*kerr.Error](err); ok {
				fenced = ke.Message
			}
			out.print(map[string]string{"fenced": fenced})
		}
	}
	out.print(txnDone{true, read, commits, aborts})
	if read < count || (holdFile != "" && fenced == "") {
		return 1, nil
	}
	return 0, nil
}
