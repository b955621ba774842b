package scan_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/teamslink/teamslink/internal/metrics"
	"github.com/teamslink/teamslink/internal/scan"
)

// pushed is one request the fake Pushgateway received.
type pushed struct {
	method, path, user, password string
	families                     map[string]*dto.MetricFamily
}

// gateway is a fake Pushgateway under a path prefix that records what it
// is sent and answers status.
func gateway(t *testing.T, status int) (base string, got func() []pushed) {
	t.Helper()
	var (
		mu   sync.Mutex
		reqs []pushed
	)
	mux := http.NewServeMux()
	mux.HandleFunc("/prefix/", func(w http.ResponseWriter, r *http.Request) {
		p := pushed{method: r.Method, path: strings.TrimPrefix(r.URL.Path, "/prefix"), families: map[string]*dto.MetricFamily{}}
		p.user, p.password, _ = r.BasicAuth()
		dec := expfmt.NewDecoder(r.Body, expfmt.ResponseFormat(r.Header))
		for {
			var mf dto.MetricFamily
			if err := dec.Decode(&mf); err != nil {
				if !errors.Is(err, io.EOF) {
					t.Errorf("decode the push: %v", err)
				}
				break
			}
			p.families[mf.GetName()] = &mf
		}
		mu.Lock()
		reqs = append(reqs, p)
		mu.Unlock()
		w.WriteHeader(status)
		_, _ = io.WriteString(w, "answer of the gateway")
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL + "/prefix", func() []pushed {
		mu.Lock()
		defer mu.Unlock()
		return append([]pushed(nil), reqs...)
	}
}

// TestPush: a run's metrics go to /metrics/job/teamslink/shard/<K>, by PUT
// (the group replaced) or POST (only the families sent); credentials in the
// URL become basic auth and never appear in an error.
func TestPush(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		shard      scan.Shard
		replace    bool
		status     int
		wantMethod string
		wantPath   string
		wantErr    string
	}{
		{"shard, replacing the group", scan.Shard{K: 2, N: 4}, true, http.StatusOK, http.MethodPut, "/metrics/job/teamslink/shard/2", ""},
		{"whole fleet", scan.Shard{}, true, http.StatusAccepted, http.MethodPut, "/metrics/job/teamslink/shard/all", ""},
		{"a failed run adds its scans", scan.Shard{K: 0, N: 1}, false, http.StatusOK, http.MethodPost, "/metrics/job/teamslink/shard/0", ""},
		{"refused", scan.Shard{K: 1, N: 2}, true, http.StatusBadRequest, http.MethodPut, "/metrics/job/teamslink/shard/1", "unexpected status code 400"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			base, got := gateway(t, tt.status)
			u := strings.Replace(base, "http://", "http://pusher:s3cret@", 1)
			g, err := scan.ParseGateway(u)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(g.String(), "s3cret") {
				t.Errorf("gateway prints as %s", g)
			}
			reg := prometheus.NewRegistry()
			m := metrics.New(reg, metrics.BuildInfo{Version: "1.2.3"})
			m.ObserveScan(0, nil)
			err = g.Push(t.Context(), tt.shard, reg, tt.replace)
			if tt.wantErr != "" {
				var pe *scan.PushError
				if !errors.As(err, &pe) || !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "s3cret") {
					t.Errorf("Push = %v, want a *scan.PushError saying %q without the password", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			reqs := got()
			if len(reqs) != 1 {
				t.Fatalf("%d pushes, want 1", len(reqs))
			}
			r := reqs[0]
			if r.method != tt.wantMethod || r.path != tt.wantPath || r.user != "pusher" || r.password != "s3cret" {
				t.Errorf("push %s %s as %s:%s, want %s %s as pusher", r.method, r.path, r.user, r.password, tt.wantMethod, tt.wantPath)
			}
			scans := r.families["teamslink_scans_total"]
			if scans == nil || r.families["teamslink_build_info"] == nil {
				t.Fatalf("pushed families %v lack teamslink_scans_total or teamslink_build_info", r.families)
			}
			for _, s := range scans.GetMetric() {
				for _, l := range s.GetLabel() {
					if l.GetName() == "job" || l.GetName() == "shard" {
						t.Errorf("a pushed series carries the grouping label %s", l.GetName())
					}
					if l.GetValue() == "success" && s.GetCounter().GetValue() != 1 {
						t.Errorf("scans_total{success} = %v, want 1", s.GetCounter().GetValue())
					}
				}
			}
		})
	}
}

func TestParseGateway(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"http://pushgateway.monitoring.svc:9091", "http://pushgateway.monitoring.svc:9091", true},
		{"https://gw.example.com/prefix/", "https://gw.example.com/prefix", true},
		{"pushgateway:9091", "http://pushgateway:9091", true},
		{"http://user:pw@gw:9091", "http://gw:9091", true},
		{"", "", false},
		{"ftp://gw:21", "", false},
		{"http://gw:9091/?x=1", "", false},
		{"http://", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			g, err := scan.ParseGateway(tt.in)
			if !tt.ok {
				var cfgErr *scan.ConfigError
				if !errors.As(err, &cfgErr) {
					t.Errorf("ParseGateway(%q) = %v, %v; want a *ConfigError", tt.in, g, err)
				}
				return
			}
			if err != nil || g.String() != tt.want {
				t.Errorf("ParseGateway(%q) = %v, %v; want %s", tt.in, g, err, tt.want)
			}
		})
	}
}
