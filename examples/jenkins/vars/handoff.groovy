// handoff shared-library step: bump an image in a GitOps config repo and open/update one rolling
// pull/merge request per app and environment, or validate a config repo.
//
//   handoff(app: 'web', env: 'dev', image: "registry.example.com/web:${env.GIT_COMMIT}",
//           configRepo: 'https://gitlab.example.com/platform/config.git', forge: 'gitlab',
//           credentialsId: 'handoff-config-repo-token')
//
// Every value reaches the shell only as an environment variable; the script below is a single-quoted
// Groovy string, so Groovy never interpolates a value (or the token) into it. Returns the results
// (HANDOFF_OPERATION, HANDOFF_MR_IID, HANDOFF_MR_URL, ...) as a Map.
def call(Map cfg = [:]) {
    List<String> settings = [
        "HANDOFF_COMMAND=${cfg.get('command', 'propose')}",
        "HANDOFF_IMAGE=${cfg.get('image', '')}",
        "HANDOFF_TAG=${cfg.get('tag', '')}",
        "HANDOFF_DIGEST=${cfg.get('digest', '')}",
        "HANDOFF_APP=${cfg.get('app', '')}",
        "HANDOFF_ENV=${cfg.get('env', '')}",
        "HANDOFF_CONFIG_REPO=${cfg.get('configRepo', '')}",
        "HANDOFF_FORGE=${cfg.get('forge', '')}",
        "HANDOFF_PROJECT=${cfg.get('project', '')}",
        "HANDOFF_FORGE_URL=${cfg.get('forgeUrl', '')}",
        "HANDOFF_GIT_USERNAME=${cfg.get('gitUsername', '')}",
        "HANDOFF_TOKEN_VARIABLE=HANDOFF_TOKEN",
        "HANDOFF_MODE=${cfg.get('mode', '')}",
        "HANDOFF_BASE=${cfg.get('base', '')}",
        "HANDOFF_LABELS=${cfg.get('labels', '')}",
        "HANDOFF_REVIEWERS=${cfg.get('reviewers', '')}",
        "HANDOFF_DRAFT=${cfg.get('draft', false)}",
        "HANDOFF_AUTO_MERGE=${cfg.get('autoMerge', false)}",
        "HANDOFF_DRY_RUN=${cfg.get('dryRun', false)}",
        "HANDOFF_PATH=${cfg.get('path', '.')}",
        "HANDOFF_FAIL_ON=${cfg.get('failOn', 'error')}",
    ]
    Closure run = {
        sh label: 'handoff', script: '''
rc=0
if [ "$HANDOFF_COMMAND" = validate ]; then
  : > handoff.env
  # The merge-request check's form: in a config repo every environment's render with its params.
  if [ -f "$HANDOFF_PATH/.handoff.yaml" ]; then set -- --config-repo "$HANDOFF_PATH"; else set -- "$HANDOFF_PATH"; fi
  handoff validate "$@" --fail-on "$HANDOFF_FAIL_ON" --output junit > handoff-junit.xml || rc=$?
  exit "$rc"
fi
image_ref=$HANDOFF_IMAGE
[ -z "$HANDOFF_TAG" ] || image_ref="$image_ref:$HANDOFF_TAG"
[ -z "$HANDOFF_DIGEST" ] || image_ref="$image_ref@$HANDOFF_DIGEST"
set -- propose --image "$image_ref" --app "$HANDOFF_APP" --env "$HANDOFF_ENV" --output json
[ -z "$HANDOFF_FORGE" ] || set -- "$@" --forge "$HANDOFF_FORGE"
[ -z "$HANDOFF_CONFIG_REPO" ] || set -- "$@" --config-repo "$HANDOFF_CONFIG_REPO"
[ -z "$HANDOFF_PROJECT" ] || set -- "$@" --project "$HANDOFF_PROJECT"
[ -z "$HANDOFF_FORGE_URL" ] || set -- "$@" --forge-url "$HANDOFF_FORGE_URL"
[ -z "$HANDOFF_GIT_USERNAME" ] || set -- "$@" --git-username "$HANDOFF_GIT_USERNAME"
[ -z "$HANDOFF_MODE" ] || set -- "$@" --mode "$HANDOFF_MODE"
[ -z "$HANDOFF_BASE" ] || set -- "$@" --base "$HANDOFF_BASE"
[ -z "$HANDOFF_LABELS" ] || set -- "$@" --labels "$HANDOFF_LABELS"
[ -z "$HANDOFF_REVIEWERS" ] || set -- "$@" --reviewers "$HANDOFF_REVIEWERS"
[ "$HANDOFF_DRAFT" != true ] || set -- "$@" --draft
[ "$HANDOFF_AUTO_MERGE" != true ] || set -- "$@" --auto-merge
[ "$HANDOFF_DRY_RUN" != true ] || set -- "$@" --dry-run
if [ "$(printenv "$HANDOFF_TOKEN_VARIABLE" | wc -c)" -gt 1 ]; then set -- "$@" --token-env "$HANDOFF_TOKEN_VARIABLE"; fi
handoff "$@" > handoff-result.json || rc=$?
handoff ci gitlab --result handoff-result.json --dotenv handoff.env --junit handoff-junit.xml
exit "$rc"
'''
    }
    withEnv(settings) {
        if (cfg.credentialsId) {
            withCredentials([string(credentialsId: cfg.credentialsId, variable: 'HANDOFF_TOKEN')]) {
                run()
            }
        } else {
            run()
        }
    }
    Map results = [:]
    if (fileExists('handoff.env')) {
        readFile('handoff.env').readLines().each { String line ->
            int eq = line.indexOf('=')
            if (eq > 0) {
                results[line.substring(0, eq)] = line.substring(eq + 1)
            }
        }
    }
    return results
}
