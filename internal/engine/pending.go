package engine

import (
	"context"
	"slices"
	"strings"

	"github.com/teamslink/teamslink/internal/finding"
)

// BuiltinRuleIDs are the ids of the embedded catalogue, known without
// compiling the policies, so that waivers can be checked before a scan's
// first request while the policies compile alongside it. A test holds the
// list to the compiled catalogue: a rule added to the policies is added here.
var BuiltinRuleIDs = []string{
	"TL-CONSENT-001", "TL-ENT-001", "TL-ENT-002", "TL-ENV-001", "TL-ENV-002", "TL-GRP-001",
	"TL-LIC-001", "TL-LIC-002", "TL-MAN-001", "TL-MAN-002", "TL-MAN-003", "TL-ROLE-001", "TL-ROLE-002", "TL-ROLE-003",
	"TL-SP-001", "TL-SP-002", "TL-SP-003", "TL-SP-004", "TL-SP-005",
}

// Pending is an engine being compiled: Start returns one at once, Wait
// returns the engine when it is ready. Its CheckWaivers answers before
// then.
type Pending struct {
	done chan struct{}
	eng  *Engine
	err  error
	// ids are the rules a waiver may name: the built-in ones while
	// compiling, the compiled catalogue's when Ready made it.
	ids []string
}

// Start compiles the built-in policies in a goroutine of its own, so that
// a scan's first requests need not wait for them (about 40 to 90 ms).
// User policies (cfg.PolicyDirs) are not compiled this way: their mistakes
// and their rule ids must be known before any request, so Start compiles
// them before it returns, as New does, and returns New's error.
func Start(ctx context.Context, cfg Config) (*Pending, error) {
	if len(cfg.PolicyDirs) > 0 {
		eng, err := New(ctx, cfg)
		if err != nil {
			return nil, err
		}
		return Ready(eng), nil
	}
	p := &Pending{done: make(chan struct{}), ids: BuiltinRuleIDs}
	go func() {
		defer close(p.done)
		p.eng, p.err = New(ctx, cfg)
	}()
	return p, nil
}

// Ready is a Pending of an engine already compiled.
func Ready(eng *Engine) *Pending {
	p := &Pending{done: make(chan struct{}), eng: eng}
	for _, r := range eng.rules {
		p.ids = append(p.ids, r.ID)
	}
	close(p.done)
	return p
}

// CheckWaivers returns an *UnknownWaiverRuleError for the first waiver whose
// rule is not in the catalogue, without waiting for the compilation.
func (p *Pending) CheckWaivers(ws []finding.WaiverRule) error {
	for _, w := range ws {
		if !slices.Contains(p.ids, strings.ToUpper(strings.TrimSpace(w.Rule))) {
			return &UnknownWaiverRuleError{Rule: w.Rule, Source: w.Source}
		}
	}
	return nil
}

// Wait returns the compiled engine, or why it could not be compiled, or
// ctx's error if ctx ends first.
func (p *Pending) Wait(ctx context.Context) (*Engine, error) {
	select {
	case <-p.done:
		return p.eng, p.err
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}
