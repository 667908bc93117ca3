package pipeline

import (
	"context"
	"io"
	"log/slog"
	"runtime"
	"strings"
)

// SetupLogging installs the process's slog handler: text or JSON on w
// (stderr, or the progress display, which prints it above its bars) at the
// given level. Apache Beam's own log lines (Prism's job service, the
// worker harness) are shown only at LOG_LEVEL=debug: a failed run's cause is
// in the exporter's own error message.
func SetupLogging(level, format string, w io.Writer) {
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(level))
	opts := &slog.HandlerOptions{Level: lv}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if format == "json" {
		h = slog.NewJSONHandler(w, opts)
	}
	if lv > slog.LevelDebug {
		h = ownHandler{h}
	}
	slog.SetDefault(slog.New(h))
}

const modulePrefix = "github.com/gitlab-data-export/gitlab-data-export/"

// ownHandler drops records logged by code outside this module.
type ownHandler struct{ slog.Handler }

func (h ownHandler) Handle(ctx context.Context, r slog.Record) error {
	// A record without a PC comes from a bridge (the standard log package,
	// which Beam's worker harness logs through), never from this module.
	fn := runtime.FuncForPC(r.PC)
	if r.PC == 0 || fn == nil || (!strings.HasPrefix(fn.Name(), modulePrefix) && !strings.HasPrefix(fn.Name(), "main.")) {
		return nil
	}
	return h.Handler.Handle(ctx, r)
}

func (h ownHandler) WithAttrs(a []slog.Attr) slog.Handler { return ownHandler{h.Handler.WithAttrs(a)} }
func (h ownHandler) WithGroup(g string) slog.Handler      { return ownHandler{h.Handler.WithGroup(g)} }
