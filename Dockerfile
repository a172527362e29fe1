# One image for every rebound role; the command names the program (scripts/docker/entrypoint.sh):
#   docker run IMAGE rebound-bootstrap|rebound-node|rebound-swarm|rebound [flags]
# Build after `npm run build` and `scripts/docker/stage.sh`, which installs the production
# node_modules on the host: the build copies files and runs no package manager, because the
# engine's build step may reach no registry (containers.md).
# BASE_IMAGE: laptops pull the official node:22-slim; CI, with no registry, builds
# localhost/rebound-node-base:22 first (scripts/docker/base-image.sh) and passes it here.
ARG BASE_IMAGE=node:22-slim
FROM ${BASE_IMAGE}

ENV NODE_ENV=production
COPY dist/docker/app /app
COPY scripts/docker/entrypoint.sh scripts/docker/healthcheck.mjs scripts/docker/make-keys.mjs /app/docker/
# Mount points owned by the unprivileged user: an empty volume mounted on a directory of the
# image takes that directory's owner, so the services can write their data, keys and store.
RUN mkdir -p /data /keys /store && chown 1000:1000 /data /keys /store
# uid 1000 is `node` in node:22-slim and in the local base image alike.
USER 1000:1000
WORKDIR /app
# libp2p TCP and the HTTP control port (docs/interfaces.md).
EXPOSE 7401 7480
ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["rebound", "--help"]
