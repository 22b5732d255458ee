# One image, three programs: worker, starter (poller, CLI, slackbot, codec-server) and s1sim
# (the simulator). The Helm chart (deploy/helm/s1copilot) runs worker and starter from it.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/ ./worker ./starter ./tools/s1sim

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/ /usr/local/bin/
# Numeric (distroless's nonroot is 65532): Kubernetes' runAsNonRoot can verify a numeric
# user only; the chart sets the same runAsUser.
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/worker"]
