#!/usr/bin/env sh
# Rebuild the web UIs' committed static files (../static) from app.scss and the npm packages
# pinned in package-lock.json. Needs Node 20+ and npm; installing or running the node does not.
#   mash_common/web/assets/build.sh
# Writes: static/app.css, static/govuk-frontend.min.js, static/moj-frontend.min.js,
# static/assets/images/icon-*.svg (MOJ Frontend's component icons; no crest or logo), and
# built-from.txt (checksums of the sources, so a test can tell the build is stale).
# favicon.svg and favicon.ico in static/ are the node's own icon, drawn by hand, not built.
set -eu
cd "$(dirname "$0")"
static=../static

npm ci --no-audit --no-fund --loglevel=error
npx sass --pkg-importer=node --load-path=. --style=compressed --quiet-deps --no-source-map \
  app.scss "$static/app.css"

# The JavaScript as published, without the source-map comment (the maps are not shipped).
for source in node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js \
              node_modules/@ministryofjustice/frontend/moj/moj-frontend.min.js; do
  sed 's|//# sourceMappingURL=[^ ]*$||' "$source" > "$static/$(basename "$source")"
done

mkdir -p "$static/assets/images"
cp node_modules/@ministryofjustice/frontend/moj/assets/images/icon-*.svg "$static/assets/images/"

sha256sum app.scss build.sh package.json package-lock.json > built-from.txt
echo "Built $static/app.css ($(wc -c < "$static/app.css") bytes) and the scripts"
