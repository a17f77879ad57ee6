package consumers

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/segmentio/kafka-go"
)

// Checkpoint is a partition's detector state at an offset: restoring State
// and consuming from Offset continues exactly where the owner that saved it
// was (docs/formats/checkpoint.md).
type Checkpoint struct {
	Topic     string
	Partition int
	// Offset is the next offset to consume.
	Offset int64
	// State is the gzipped detector snapshot (detector.Engine.Snapshot).
	State []byte
}

// StateStore keeps the newest Checkpoint of each partition.
type StateStore interface {
	// Load returns the newest checkpoint of the partition, ok false when
	// there is none.
	Load(ctx context.Context, topic string, partition int) (c Checkpoint, ok bool, err error)
	// Save stores c durably: after it returns nil, Load returns c or a
	// newer checkpoint.
	Save(ctx context.Context, c Checkpoint) error
}

// ErrBadCheckpoint reports a checkpoint that cannot be used.
var ErrBadCheckpoint = errors.New("consumers: bad checkpoint")

// KafkaStore keeps checkpoints in a compacted Kafka topic, as Kafka Streams
// keeps its changelogs. The checkpoint of source partition p goes to state
// partition p mod N, so a new owner reads only that partition. A checkpoint
// larger than one message is cut into chunks whose keys carry the
// checkpoint's random id; the manifest, written after them in the same
// ordered write, names the id, and only then are the previous checkpoint's
// chunks deleted (tombstones). A crash while saving leaves the previous
// checkpoint whole; compaction, which keeps the newest message of each key,
// never removes a chunk the newest manifest needs; and an owner that lost
// its partition but still saves (a zombie past the rebalance timeout)
// writes chunks of its own id, so it can never corrupt the new owner's.
//
// Keys (the group ID lets groups share the topic):
//
//	<group>/<topic>/<partition>/m              manifest
//	<group>/<topic>/<partition>/c/<id>/<i>     chunk i of checkpoint id (16 hex digits)
type KafkaStore struct {
	group, topic string
	parts        int
	brokers      []string
	dialer       *kafka.Dialer
	w            *kafka.Writer
	chunk        int
	// last remembers, per partition, the newest checkpoint saved or
	// loaded, whose chunks the next save deletes; the partition workers
	// of a Group share the store.
	mu   sync.Mutex
	last map[string]manifest
}

// stateChunkBytes keeps each message under the broker's default
// message.max.bytes (1 MiB) with room for the key and headers.
const stateChunkBytes = 900 << 10

// NewKafkaStore returns a store on topic, which has partitions partitions
// and should be compacted (cleanup.policy=compact). dialer may be nil.
func NewKafkaStore(brokers []string, topic string, partitions int, group string, dialer *kafka.Dialer) *KafkaStore {
	s := &KafkaStore{group: group, topic: topic, parts: partitions, brokers: brokers, dialer: dialer,
		chunk: stateChunkBytes, last: map[string]manifest{}}
	tr := &kafka.Transport{}
	if dialer != nil {
		tr.Dial = dialer.DialFunc
	}
	s.w = &kafka.Writer{
		Addr:  kafka.TCP(brokers...),
		Topic: topic,
		// The partition is in the key: see partitionOf.
		Balancer:     kafka.BalancerFunc(func(m kafka.Message, _ ...int) int { return s.partitionOf(m.Key) }),
		RequiredAcks: kafka.RequireAll,
		BatchTimeout: 2 * time.Millisecond,
		BatchBytes:   1 << 20,
		MaxAttempts:  5,
		Transport:    tr,
	}
	return s
}

// Close releases the writer.
func (s *KafkaStore) Close() error { return s.w.Close() }

func (s *KafkaStore) prefix(topic string, partition int) string {
	return s.group + "/" + topic + "/" + strconv.Itoa(partition) + "/"
}

// partitionOf returns the state partition of a key: its source partition
// modulo the state topic's partitions.
func (s *KafkaStore) partitionOf(key []byte) int {
	parts := strings.Split(string(key), "/")
	if len(parts) < 4 {
		return 0
	}
	p, _ := strconv.Atoi(parts[2])
	return p % s.parts
}

// manifest is the value of a manifest message: version, checkpoint id,
// offset, chunk count, size and xxhash of the whole state.
type manifest struct {
	id     uint64
	offset int64
	chunks int
	size   int
	sum    uint64
}

const manifestVersion = 2

func (m *manifest) marshal() []byte {
	b := []byte{manifestVersion}
	b = binary.BigEndian.AppendUint64(b, m.id)
	b = binary.BigEndian.AppendUint64(b, uint64(m.offset))
	b = binary.BigEndian.AppendUint32(b, uint32(m.chunks))
	b = binary.BigEndian.AppendUint64(b, uint64(m.size))
	return binary.BigEndian.AppendUint64(b, m.sum)
}

func (m *manifest) unmarshal(b []byte) error {
	if len(b) != 37 || b[0] != manifestVersion {
		return fmt.Errorf("%w: manifest of %d bytes, version %d", ErrBadCheckpoint, len(b), firstByte(b))
	}
	m.id = binary.BigEndian.Uint64(b[1:])
	m.offset = int64(binary.BigEndian.Uint64(b[9:]))
	m.chunks = int(binary.BigEndian.Uint32(b[17:]))
	m.size = int(binary.BigEndian.Uint64(b[21:]))
	m.sum = binary.BigEndian.Uint64(b[29:])
	if m.offset < 0 || m.chunks < 1 || m.size < 0 || m.size > m.chunks*(1<<20) {
		return fmt.Errorf("%w: manifest offset %d, %d chunks, %d bytes", ErrBadCheckpoint, m.offset, m.chunks, m.size)
	}
	return nil
}

// chunkKey is the key of chunk i of checkpoint id.
func chunkKey(prefix string, id uint64, i int) string {
	return fmt.Sprintf("%sc/%016x/%d", prefix, id, i)
}

func firstByte(b []byte) int {
	if len(b) == 0 {
		return -1
	}
	return int(b[0])
}

// Save writes the chunks of c, then its manifest, then deletes the chunks
// of the checkpoint it replaces.
func (s *KafkaStore) Save(ctx context.Context, c Checkpoint) error {
	p := s.prefix(c.Topic, c.Partition)
	m := manifest{id: rand.Uint64(), offset: c.Offset, size: len(c.State), sum: xxhash.Sum64(c.State)}
	m.chunks = max(1, (len(c.State)+s.chunk-1)/s.chunk)
	msgs := make([]kafka.Message, 0, m.chunks+1)
	for i := range m.chunks {
		part := c.State[min(i*s.chunk, len(c.State)):min((i+1)*s.chunk, len(c.State))]
		msgs = append(msgs, kafka.Message{Key: []byte(chunkKey(p, m.id, i)), Value: part})
	}
	// One write call: the writer keeps the order of the messages of one
	// partition, so the manifest lands after its chunks.
	msgs = append(msgs, kafka.Message{Key: []byte(p + "m"), Value: m.marshal()})
	if err := s.w.WriteMessages(ctx, msgs...); err != nil {
		return fmt.Errorf("save checkpoint %s%d: %w", p, c.Offset, err)
	}
	s.mu.Lock()
	prev, ok := s.last[p]
	s.last[p] = m
	s.mu.Unlock()
	if ok && prev.id != m.id {
		tomb := make([]kafka.Message, prev.chunks)
		for i := range tomb {
			tomb[i] = kafka.Message{Key: []byte(chunkKey(p, prev.id, i))} // nil value: a tombstone
		}
		// Best effort: a chunk left over costs space until the next save
		// that knows of it, never correctness.
		_ = s.w.WriteMessages(ctx, tomb...)
	}
	return nil
}

// Load reads the state partition from its start to its end and returns the
// newest checkpoint of the partition whose chunks are all present.
func (s *KafkaStore) Load(ctx context.Context, topic string, partition int) (Checkpoint, bool, error) {
	p := s.prefix(topic, partition)
	sp := partition % s.parts
	conn, err := s.dialLeader(ctx, sp)
	if err != nil {
		return Checkpoint{}, false, err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	first, last, err := conn.ReadOffsets()
	if err != nil {
		return Checkpoint{}, false, fmt.Errorf("offsets of %s/%d: %w", s.topic, sp, err)
	}
	var man []byte
	chunks := map[string][]byte{}
	// A connection of its own, read batch by batch: a Reader's background
	// fetching and backoff cost most of a second per restore.
	for off := first; off < last; {
		if _, err := conn.Seek(off, kafka.SeekAbsolute); err != nil {
			return Checkpoint{}, false, err
		}
		if _, ok := ctx.Deadline(); !ok {
			_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		}
		batch := conn.ReadBatch(1, 16<<20)
		n := 0
		for {
			msg, err := batch.ReadMessage()
			if err != nil {
				break
			}
			if msg.Offset < off {
				continue // a compressed batch starts before the offset asked for
			}
			n++
			off = msg.Offset + 1
			if k := string(msg.Key); strings.HasPrefix(k, p) {
				switch {
				case k == p+"m":
					man = msg.Value
				case msg.Value == nil:
					delete(chunks, k) // a tombstone
				default:
					chunks[k] = msg.Value
				}
			}
		}
		if err := batch.Close(); err != nil && !errors.Is(err, io.EOF) {
			return Checkpoint{}, false, fmt.Errorf("read checkpoints of %s from %s/%d at %d: %w", p, s.topic, sp, off, err)
		}
		if n == 0 {
			// Compaction can leave offsets without records at the end of
			// a segment; the next read starts past them.
			if off2, err := conn.Seek(0, kafka.SeekCurrent); err == nil && off2 > off {
				off = off2
				continue
			}
			return Checkpoint{}, false, fmt.Errorf("read checkpoints of %s from %s/%d: no progress at offset %d of %d", p, s.topic, sp, off, last)
		}
	}
	if man == nil {
		return Checkpoint{}, false, nil
	}
	var m manifest
	if err := m.unmarshal(man); err != nil {
		return Checkpoint{}, false, fmt.Errorf("checkpoint of %s: %w", p, err)
	}
	state := make([]byte, 0, m.size)
	for i := range m.chunks {
		v, ok := chunks[chunkKey(p, m.id, i)]
		if !ok {
			return Checkpoint{}, false, fmt.Errorf("%w: %s: chunk %d of checkpoint %016x missing", ErrBadCheckpoint, p, i, m.id)
		}
		state = append(state, v...)
	}
	if len(state) != m.size || xxhash.Sum64(state) != m.sum {
		return Checkpoint{}, false, fmt.Errorf("%w: %s: checksum mismatch", ErrBadCheckpoint, p)
	}
	s.mu.Lock()
	s.last[p] = m
	s.mu.Unlock()
	return Checkpoint{Topic: topic, Partition: partition, Offset: m.offset, State: state}, true, nil
}

// dialLeader connects to the leader of a state partition.
func (s *KafkaStore) dialLeader(ctx context.Context, partition int) (*kafka.Conn, error) {
	d := s.dialer
	if d == nil {
		d = &kafka.Dialer{Timeout: 10 * time.Second}
	}
	var errs []error
	for _, b := range s.brokers {
		conn, err := d.DialLeader(ctx, "tcp", b, s.topic, partition)
		if err == nil {
			return conn, nil
		}
		errs = append(errs, err)
	}
	return nil, fmt.Errorf("leader of %s/%d: %w", s.topic, partition, errors.Join(errs...))
}

// MemStore is a StateStore in memory, for tests and for a single process
// that does not need checkpoints to outlive it.
type MemStore struct {
	mu sync.Mutex
	m  map[string]Checkpoint
}

// NewMemStore returns an empty MemStore. It is safe for concurrent use.
func NewMemStore() *MemStore { return &MemStore{m: map[string]Checkpoint{}} }

// Load implements StateStore.
func (s *MemStore) Load(_ context.Context, topic string, partition int) (Checkpoint, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.m[topic+"/"+strconv.Itoa(partition)]
	c.State = bytes.Clone(c.State)
	return c, ok, nil
}

// Save implements StateStore.
func (s *MemStore) Save(_ context.Context, c Checkpoint) error {
	c.State = bytes.Clone(c.State)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[c.Topic+"/"+strconv.Itoa(c.Partition)] = c
	return nil
}
