package platform

import (
	"context"
	"log/slog"
	"os"
)

// NewLogger returns the JSON logger every function uses, and makes it the
// default logger too. Lambda's JSON log
// format picks it up from stdout. Level follows AWS_LAMBDA_LOG_LEVEL, which
// Lambda sets from the function's LoggingConfig.
func NewLogger() *slog.Logger {
	level := slog.LevelInfo
	switch os.Getenv("AWS_LAMBDA_LOG_LEVEL") {
	case "DEBUG", "TRACE":
		level = slog.LevelDebug
	case "WARN":
		level = slog.LevelWarn
	case "ERROR", "FATAL":
		level = slog.LevelError
	}
	l := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(l)
	return l
}

type loggerKey struct{}

// WithLogger attaches a logger (carrying request id, tenant…) to ctx.
func WithLogger(ctx context.Context, l *slog.Logger) context.Context {
	return context.WithValue(ctx, loggerKey{}, l)
}

// Logger returns the logger attached to ctx, or the default one.
func Logger(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}

// Fatal logs a start-up failure and exits; functions use it at init only.
func Fatal(msg string, err error) {
	slog.Error(msg, "error", err.Error())
	os.Exit(1)
}
