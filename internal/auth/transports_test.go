package auth

import (
	"net/http"
	"testing"

	"github.com/teamslink/teamslink/internal/config"
)

func TestTransportsShare(t *testing.T) {
	t.Parallel()
	p := NewTransports(4)
	a, err := p.Client(config.Endpoints{ConnectTo: "127.0.0.1:1", RequestTimeout: 1})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		ep   config.Endpoints
		same bool
	}{
		{"same connect-to, other settings", config.Endpoints{ConnectTo: "127.0.0.1:1", Graph: "https://graph.example", RequestTimeout: 2}, true},
		{"other connect-to", config.Endpoints{ConnectTo: "127.0.0.1:2"}, false},
		{"no connect-to", config.Endpoints{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b, err := p.Client(tc.ep)
			if err != nil {
				t.Fatal(err)
			}
			if (a == b) != tc.same {
				t.Errorf("shared = %v, want %v", a == b, tc.same)
			}
			if _, ok := bareTransport(b).(*http.Transport); !ok {
				t.Error("bare transport is not an *http.Transport")
			}
		})
	}
}

func TestTransportsIdleBound(t *testing.T) {
	t.Parallel()
	p := NewTransports(3)
	c, err := p.Client(config.Endpoints{})
	if err != nil {
		t.Fatal(err)
	}
	g, ok := c.Transport.(*firstConnGate)
	if !ok {
		t.Fatalf("transport %T, want the first-connection gate", c.Transport)
	}
	if g.next.MaxIdleConnsPerHost != 3 {
		t.Errorf("MaxIdleConnsPerHost = %d, want 3", g.next.MaxIdleConnsPerHost)
	}
	other, err := p.Client(config.Endpoints{ConnectTo: "127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	if g.next.TLSClientConfig.RootCAs != other.Transport.(*firstConnGate).next.TLSClientConfig.RootCAs {
		t.Error("two endpoints settings without a CA file hold two system pools, want one")
	}
	p.CloseIdleConnections() // nothing open: must not fail
	if p.Len() != 2 {
		t.Errorf("Len = %d, want 2", p.Len())
	}
}

func TestTransportsBadCAFile(t *testing.T) {
	t.Parallel()
	if _, err := NewTransports(0).Client(config.Endpoints{CAFile: t.TempDir() + "/missing.pem"}); err == nil {
		t.Error("a missing CA file gave a client")
	}
}
