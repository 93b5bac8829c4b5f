# Strata gateway. Build: docker build -t strata .
# Run:   docker run -p 8080:8080 -p 2222:2222 -v strata-data:/data strata
FROM node:20-bookworm-slim AS build
WORKDIR /src
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json nest-cli.json ./
COPY src ./src
COPY migrations ./migrations
COPY bench ./bench
COPY bin ./bin
COPY web ./web
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends util-linux tini && rm -rf /var/lib/apt/lists/* \
 && groupadd --system strata && useradd --system --gid strata --home /data strata \
 && mkdir -p /data && chown strata:strata /data
WORKDIR /app
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY --from=build /src/bin ./bin
COPY --from=build /src/web/dist ./web/dist
COPY package.json ./
ENV STRATA_DATA_DIR=/data STRATA_HTTP_HOST=0.0.0.0 STRATA_HTTP_PORT=8080 STRATA_SHELL_HOST=0.0.0.0 STRATA_SAN_HOST=0.0.0.0 NODE_ENV=production
VOLUME ["/data"]
EXPOSE 8080 2222 7700/udp
USER strata
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/src/main.js"]
