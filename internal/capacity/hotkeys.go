package capacity

import (
	_ "embed"
	"errors"
	"fmt"
	"math"
	"path"

	"go.yaml.in/yaml/v3"

	"github.com/serverless-shop/backend/functions/orders/store"
)

// DynamoDB's limits of one partition key (DynamoDB Developer Guide,
// "Partitions and data distribution"; re:Post, "on-demand table
// throttling": 3,000 read request units or 1,000 write request units a
// second, or a linear combination of both).
const (
	PartitionRCU = 3000
	PartitionWCU = 1000
)

// PartitionSource is where the per-partition limits are written.
const PartitionSource = "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html; https://repost.aws/knowledge-center/on-demand-table-throttling-dynamodb"

// HotKey is a partition key that requests of different users share, and
// how its load grows with traffic (hotkeys.yaml says what each field
// means).
type HotKey struct {
	Key           string             `yaml:"key"`
	Table         string             `yaml:"table"`
	Index         string             `yaml:"index"`
	Model         string             `yaml:"model"`
	Readers       []string           `yaml:"readers"`
	Every         float64            `yaml:"every"`
	ReadBudget    string             `yaml:"readBudget"`
	ItemBytes     float64            `yaml:"itemBytes"`
	WCUPerWrite   float64            `yaml:"wcuPerWrite"`
	LeewaySeconds float64            `yaml:"leewaySeconds"`
	OverlapSecs   float64            `yaml:"overlapSeconds"`
	Revocations   map[string]float64 `yaml:"revocations"`
	Writes        map[string]float64 `yaml:"writes"`
	ShardsParam   string             `yaml:"shardsParam"`
	HoldMS        float64            `yaml:"holdMS"`
	ShardsConst   string             `yaml:"shardsConst"`
	Why           string             `yaml:"why"`
}

// The models of a hot key's load.
const (
	ModelCatalogCopy    = "catalog-copy"
	ModelRevocationList = "revocation-list"
	ModelRevocationFeed = "revocation-feed"
	// ModelCounter is a counter every request of some routes writes once
	// (a limit of all clients together), read by none.
	ModelCounter = "counter"
	// ModelShardedCounter is a counter split over shards (a template
	// parameter's number of items with distinct partition keys), each
	// write going to one of them at random: a hot SKU's stock (ADR 9).
	ModelShardedCounter = "sharded-counter"
	// ModelShardedQueue is an index's partition key split over shards (a
	// Go constant's number of partitions), each item on the shard a hash
	// of its id picks: staff's queues of orders by status.
	ModelShardedQueue = "sharded-queue"
)

// ShardConsts are the Go constants a sharded queue's shardsConst may name:
// the code's own values, not copies.
var ShardConsts = map[string]float64{"store.QueueShards": store.QueueShards}

// HotKeys is the hot-key table.
type HotKeys []HotKey

//go:embed hotkeys.yaml
var hotKeysYAML []byte

// LoadHotKeys returns the hot-key table of hotkeys.yaml.
func LoadHotKeys() (HotKeys, error) { return ParseHotKeys(hotKeysYAML) }

// ParseHotKeys reads and checks a hot-key table.
func ParseHotKeys(data []byte) (HotKeys, error) {
	var keys HotKeys
	if err := yaml.Unmarshal(data, &keys); err != nil {
		return nil, fmt.Errorf("hot keys: %w", err)
	}
	if len(keys) == 0 {
		return nil, errors.New("hot keys: none listed")
	}
	for _, k := range keys {
		if err := k.check(); err != nil {
			return nil, fmt.Errorf("hot key %q: %w", k.Key, err)
		}
	}
	return keys, nil
}

func (k HotKey) check() error {
	if k.Key == "" || k.Table == "" || k.Why == "" {
		return errors.New("needs key, table and why")
	}
	if _, err := path.Match(k.Key, ""); err != nil {
		return fmt.Errorf("key is not a pattern: %w", err)
	}
	switch k.Model {
	case ModelCounter:
		if k.WCUPerWrite <= 0 || len(k.Writes) == 0 {
			return errors.New("a counter needs wcuPerWrite and writes")
		}
		return nil
	case ModelShardedCounter:
		if k.WCUPerWrite <= 0 || len(k.Writes) == 0 || k.ShardsParam == "" || k.HoldMS <= 0 {
			return errors.New("a sharded counter needs wcuPerWrite, writes, shardsParam and holdMS")
		}
		return nil
	case ModelShardedQueue:
		if _, ok := ShardConsts[k.ShardsConst]; !ok || k.Index == "" || k.WCUPerWrite <= 0 || len(k.Writes) == 0 {
			return errors.New("a sharded queue needs index, wcuPerWrite, writes and a shardsConst of ShardConsts")
		}
		return nil
	}
	if len(k.Readers) == 0 || k.Every <= 0 {
		return errors.New("needs readers and every > 0")
	}
	switch k.Model {
	case ModelCatalogCopy:
		if k.ReadBudget == "" {
			return errors.New("a catalog-copy needs readBudget")
		}
	case ModelRevocationList, ModelRevocationFeed:
		if k.ItemBytes <= 0 || k.WCUPerWrite <= 0 || len(k.Revocations) == 0 {
			return errors.New("a revocation model needs itemBytes, wcuPerWrite and revocations")
		}
	default:
		return fmt.Errorf("unknown model %q", k.Model)
	}
	return nil
}

// Lists reports whether the table lists the partition key value of table
// (the template's logical id): the table's own key, not an index's.
func (h HotKeys) Lists(table, value string) bool {
	for _, k := range h {
		if ok, _ := path.Match(k.Key, value); ok && k.Table == table && k.Index == "" {
			return true
		}
	}
	return false
}

// LimitName is the name of the key's limit in the model.
func (k HotKey) LimitName() string {
	if k.Index != "" {
		return fmt.Sprintf("hot key %s (%s, index %s)", k.Key, k.Table, k.Index)
	}
	return fmt.Sprintf("hot key %s (%s)", k.Key, k.Table)
}

// keyLoad is a hot key's load at one total rate: of its busiest partition
// (one shard of a sharded counter or queue).
type keyLoad struct {
	RCU, WCU float64 // a second
	// Reads is the reads a second; Entries the entries a read returns.
	Reads, Entries float64
	// Shards is the items (partitions) a sharded counter (queue) is split
	// over (0: one item);
	// Busy the share of the time a shard is held by a transaction.
	Shards, Busy float64
}

// Use is the share of the partition's capacity the load takes (1 = full):
// its read and write units, or for a sharded counter the time its
// transactions hold a shard, whichever binds first.
func (l keyLoad) Use() float64 { return math.Max(l.RCU/PartitionRCU+l.WCU/PartitionWCU, l.Busy) }

// items is the partitions the load is spread over.
func (l keyLoad) items() float64 { return math.Max(1, l.Shards) }

// ShardCeiling is the writes a second one shard of a sharded counter or
// queue takes (PerShard: the lower of its write units' bound, ByWCU, and
// for a counter its transactions', ByHold) and those of all its shards
// (Ceiling): for the stock, orders a second on one SKU; for staff's
// queues, orders joining one status a second.
type ShardCeiling struct {
	Shards, ByWCU, ByHold, PerShard, Ceiling float64
}

// ShardedCeiling returns the ceiling of sharded counter or queue k: a
// counter with the template's number of shards (shardsParam), a queue
// with the code's (shardsConst).
func (m *Model) ShardedCeiling(k HotKey) (ShardCeiling, error) {
	c := ShardCeiling{ByWCU: PartitionWCU / k.WCUPerWrite, ByHold: math.Inf(1)}
	if k.Model == ModelShardedQueue {
		shards, ok := ShardConsts[k.ShardsConst]
		if !ok {
			return ShardCeiling{}, fmt.Errorf("no Go constant %q in ShardConsts", k.ShardsConst)
		}
		c.Shards = shards
	} else {
		shards, err := m.In.Template.Number(k.ShardsParam)
		if err != nil {
			return ShardCeiling{}, err
		}
		c.Shards, c.ByHold = shards, 1000/k.HoldMS
	}
	c.PerShard = math.Min(c.ByWCU, c.ByHold)
	c.Ceiling = c.PerShard * c.Shards
	return c, nil
}

// load is hot key k's load at total requests a second.
func (m *Model) load(k HotKey, total float64) (keyLoad, error) {
	var l keyLoad
	rps := func(per map[string]float64) float64 {
		return m.perSecond(total, func(r Route) float64 { return per[r.Route] })
	}
	switch k.Model {
	case ModelCounter:
		l.WCU = rps(k.Writes) * k.WCUPerWrite
		return l, nil
	case ModelShardedCounter, ModelShardedQueue:
		c, err := m.ShardedCeiling(k)
		if err != nil {
			return l, err
		}
		// A counter's writes go to a shard at random; a hash of the id
		// spreads a queue's many orders evenly.
		perShard := rps(k.Writes) / c.Shards
		l.Shards = c.Shards
		l.WCU = perShard * k.WCUPerWrite
		l.Busy = perShard * k.HoldMS / 1000 // a queue's holdMS is 0
		return l, nil
	}
	var envs float64
	conc := m.concurrency(total)
	for _, f := range k.Readers {
		if _, ok := m.Functions[f]; !ok {
			return l, fmt.Errorf("reader %q is not a function of template.yaml", f)
		}
		envs += math.Max(1, conc[f])
	}
	l.Reads = envs / k.Every
	if k.Model == ModelCatalogCopy {
		b, ok := m.In.Budgets[k.ReadBudget]
		if !ok {
			return l, fmt.Errorf("no budget %q (internal/budgets)", k.ReadBudget)
		}
		l.RCU = l.Reads * b.RCU
		return l, nil
	}
	revocations := rps(k.Revocations)
	l.WCU = revocations * k.WCUPerWrite
	window := k.Every + k.OverlapSecs // revocation-feed: what is new since the last read
	if k.Model == ModelRevocationList {
		window = m.tokenTTL + k.LeewaySeconds // every entry still in force
	}
	l.Entries = revocations * window
	l.RCU = l.Reads * math.Max(1, math.Ceil(l.Entries*k.ItemBytes/4096))
	return l, nil
}
