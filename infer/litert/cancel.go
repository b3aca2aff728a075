package litert

import (
	"sync"
	"sync/atomic"

	"github.com/ebitengine/purego"
)

// The runtime asks bool (*check_cancelled_func)(void* data) between the
// nodes of a run (tflite::Subgraph::Invoke, through
// LiteRtSetCompiledModelCancellationFunction); a run it stops returns
// kLiteRtStatusCancelled. purego can make only a couple of thousand
// callbacks per process and never frees one, so there is a single
// callback, made on first use, and data is not a Go pointer but a small
// integer naming one compiled model's flag in cancelFlags. Both are
// process-wide because the callback limit is.
var (
	cancelOnce   sync.Once
	cancelCB     uintptr
	cancelFlags  sync.Map // uintptr handle → *atomic.Bool
	cancelNextID atomic.Uintptr
)

const statusCancelled = 100 // kLiteRtStatusCancelled

func checkCancelled(data uintptr) bool {
	f, ok := cancelFlags.Load(data)
	return ok && f.(*atomic.Bool).Load()
}

// newCancelFlag registers a flag and returns its handle and the callback
// that reads it.
func newCancelFlag() (id uintptr, flag *atomic.Bool, cb uintptr) {
	cancelOnce.Do(func() { cancelCB = purego.NewCallback(checkCancelled) })
	id = cancelNextID.Add(1)
	flag = new(atomic.Bool)
	cancelFlags.Store(id, flag)
	return id, flag, cancelCB
}

func dropCancelFlag(id uintptr) { cancelFlags.Delete(id) }
