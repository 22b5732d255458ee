package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/s1copilot/s1copilot/codec"
	"github.com/s1copilot/s1copilot/config"
	"github.com/s1copilot/s1copilot/logging"
)

// runCodecServer serves the Temporal Web UI's codec endpoint (POST /encode, /decode,
// GET /healthz) with the key ring of S1C_CODEC_KEYS, until ctx ends; requests under
// way finish first. Point the UI at it (TEMPORAL_CODEC_ENDPOINT, or the UI's codec
// settings) and give the UI's users a token, or have the UI forward their access
// token (TEMPORAL_CODEC_INCLUDE_CREDENTIALS) and list the accepted tokens.
// jwksRefresh: identity providers publish a new key well before signing with it.
const jwksRefresh = 10 * time.Minute

func runCodecServer(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("codec-server", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	addr := fs.String("addr", "", "listen address (default S1C_CODEC_SERVER_ADDR)")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("codec-server: %w (its settings are S1C_CODEC_* variables; --addr overrides the listen address)", err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("codec-server takes no arguments (its settings are S1C_CODEC_* variables)\n%s", usage)
	}
	cfg, err := config.LoadCodecServer()
	if err != nil {
		return err
	}
	if *addr != "" {
		cfg.Addr = *addr
	}
	z, err := logging.New(cfg.LogLevel)
	if err != nil {
		return err
	}
	defer func() { _ = z.Sync() }()
	ring, err := cfg.Codec.Keyring()
	if err != nil {
		return err
	}
	tokens, err := cfg.AcceptedTokens()
	if err != nil {
		return err
	}
	jwt, err := cfg.JWTVerifier()
	if err != nil {
		return err
	}
	if cfg.JWKSURL != "" {
		raw, err := codec.FetchJWKS(ctx, nil, cfg.JWKSURL)
		if err != nil {
			return err
		}
		if jwt, err = codec.NewJWTVerifier(codec.JWTOptions{JWKS: raw, Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience, Groups: cfg.JWTGroups}); err != nil {
			return fmt.Errorf("%s: %w", cfg.JWKSURL, err)
		}
		go jwt.KeepKeysFresh(ctx, nil, cfg.JWKSURL, jwksRefresh, z)
	}
	if cfg.AllowUnauthenticated {
		z.Warn("The codec server decrypts for anyone who can reach it (S1C_CODEC_SERVER_ALLOW_UNAUTHENTICATED=true): for a local demo only.")
	}
	h, err := codec.NewServer(codec.ServerOptions{
		Codec:                codec.NewCodec(ring),
		Namespaces:           cfg.Namespaces,
		Tokens:               tokens,
		JWT:                  jwt,
		AllowUnauthenticated: cfg.AllowUnauthenticated,
		AllowedOrigins:       cfg.Origins,
		Logger:               z,
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("codec server: listening on %s: %w", cfg.Addr, err)
	}
	z.Info("Codec server listening.", zap.String("addr", ln.Addr().String()), zap.Strings("namespaces", cfg.Namespaces),
		zap.Strings("origins", cfg.Origins), zap.String("currentKeyID", ring.CurrentKeyID()), zap.Strings("keyIDs", ring.KeyIDs()), zap.Int("tokens", len(tokens)))
	return serveListener(ctx, ln, h)
}

// serveListener serves h on ln until ctx ends, then lets requests under way finish.
func serveListener(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: time.Minute}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serving on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("stopping the server on %s: %w", ln.Addr(), err)
	}
	return nil
}
