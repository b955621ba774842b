package scan

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestAcquireBounds runs many workers of two tenants through acquire and
// holds the number at work to both bounds: the fleet's and each tenant's.
func TestAcquireBounds(t *testing.T) {
	t.Parallel()
	const fleetSize, perTenant, workers = 3, 2, 40
	fleet := make(chan struct{}, fleetSize)
	tenants := []chan struct{}{make(chan struct{}, perTenant), make(chan struct{}, perTenant)}
	var inFleet atomic.Int32
	inTenant := make([]atomic.Int32, len(tenants))
	var maxFleet, maxTenant atomic.Int32
	raise := func(m *atomic.Int32, v int32) {
		for {
			old := m.Load()
			if v <= old || m.CompareAndSwap(old, v) {
				return
			}
		}
	}
	var wg sync.WaitGroup
	for i := range workers {
		k := i % len(tenants)
		wg.Go(func() {
			release, ok := acquire(t.Context(), tenants[k], fleet)
			if !ok {
				t.Error("acquire gave up with a live context")
				return
			}
			raise(&maxFleet, inFleet.Add(1))
			raise(&maxTenant, inTenant[k].Add(1))
			time.Sleep(time.Millisecond)
			inTenant[k].Add(-1)
			inFleet.Add(-1)
			release()
		})
	}
	wg.Wait()
	if got := maxFleet.Load(); got > fleetSize || got < 2 {
		t.Errorf("at most %d at work across the fleet, want 2 to %d", got, fleetSize)
	}
	if got := maxTenant.Load(); got > perTenant {
		t.Errorf("at most %d at work in one tenant, want at most %d", got, perTenant)
	}
	if len(fleet) != 0 || len(tenants[0]) != 0 || len(tenants[1]) != 0 {
		t.Error("slots not given back")
	}

	// A cancelled context gives up and leaves no slot taken, also when it
	// held the first bound already.
	full := make(chan struct{}, 1)
	full <- struct{}{}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, ok := acquire(ctx, tenants[0], full); ok {
		t.Error("acquire with a cancelled context and a full bound succeeded")
	}
	if len(tenants[0]) != 0 {
		t.Error("the first bound's slot was kept after giving up")
	}
}
