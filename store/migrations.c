/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store/migrations.c — the SQL of every catalog schema version, oldest first.
 *
 * Version 1 holds what the foundation needs (blobs, repos, snapshots, refs, files) and the
 * tables later work fills in (artifacts and lineage, validations, keys, signatures, tensors),
 * so that work adds rows, not schema churn.
 */
#include "store/migrations.h"

static const char v1[] =
	"CREATE TABLE blobs("
	"  sha256 TEXT PRIMARY KEY CHECK(length(sha256) = 64),"
	"  size INTEGER NOT NULL CHECK(size >= 0),"
	"  stored_size INTEGER NOT NULL CHECK(stored_size >= 0),"
	"  encoding TEXT NOT NULL DEFAULT 'raw',"
	"  git_sha1 TEXT CHECK(git_sha1 IS NULL OR length(git_sha1) = 40),"
	"  added_at TEXT NOT NULL"
	") WITHOUT ROWID;"

	"CREATE TABLE repos("
	"  id INTEGER PRIMARY KEY,"
	"  hub TEXT NOT NULL,"
	"  repo_id TEXT NOT NULL,"
	"  UNIQUE(hub, repo_id)"
	");"

	"CREATE TABLE snapshots("
	"  id INTEGER PRIMARY KEY,"
	"  repo INTEGER NOT NULL REFERENCES repos(id),"
	"  commit_id TEXT NOT NULL,"
	"  revision_asked TEXT,"
	"  state TEXT NOT NULL CHECK(state IN ('incomplete', 'complete')),"
	"  source TEXT NOT NULL,"
	"  origin TEXT,"
	"  created_at TEXT NOT NULL,"
	"  completed_at TEXT,"
	"  license_json TEXT,"
	"  card_json TEXT,"
	"  evidence_json TEXT,"
	"  UNIQUE(repo, commit_id)"
	");"

	"CREATE TABLE refs("
	"  repo INTEGER NOT NULL REFERENCES repos(id),"
	"  name TEXT NOT NULL,"
	"  snapshot INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,"
	"  updated_at TEXT NOT NULL,"
	"  PRIMARY KEY(repo, name)"
	");"

	"CREATE TABLE files("
	"  snapshot INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,"
	"  path TEXT NOT NULL,"
	"  size INTEGER NOT NULL CHECK(size >= 0),"
	"  blob TEXT REFERENCES blobs(sha256),"
	"  hub_oid TEXT,"
	"  oid_kind TEXT CHECK(oid_kind IS NULL OR oid_kind IN ('sha256', 'git-sha1')),"
	"  PRIMARY KEY(snapshot, path)"
	");"
	"CREATE INDEX files_by_blob ON files(blob);"

	"CREATE TABLE artifacts("
	"  id INTEGER PRIMARY KEY,"
	"  kind TEXT NOT NULL,"
	"  name TEXT NOT NULL,"
	"  snapshot INTEGER REFERENCES snapshots(id) ON DELETE SET NULL,"
	"  params_json TEXT NOT NULL,"
	"  tool_version TEXT NOT NULL,"
	"  created_at TEXT NOT NULL"
	");"
	"CREATE INDEX artifacts_by_snapshot ON artifacts(snapshot);"
	/* inputs are lineage only: they do not keep a blob alive */
	"CREATE TABLE artifact_inputs("
	"  artifact INTEGER NOT NULL REFERENCES artifacts(id) ON DELETE CASCADE,"
	"  blob TEXT NOT NULL,"
	"  path TEXT NOT NULL,"
	"  PRIMARY KEY(artifact, path)"
	");"
	"CREATE TABLE artifact_outputs("
	"  artifact INTEGER NOT NULL REFERENCES artifacts(id) ON DELETE CASCADE,"
	"  blob TEXT NOT NULL REFERENCES blobs(sha256),"
	"  path TEXT NOT NULL,"
	"  PRIMARY KEY(artifact, path)"
	");"
	"CREATE INDEX artifact_outputs_by_blob ON artifact_outputs(blob);"

	"CREATE TABLE validations("
	"  id INTEGER PRIMARY KEY,"
	"  snapshot INTEGER REFERENCES snapshots(id) ON DELETE CASCADE,"
	"  artifact INTEGER REFERENCES artifacts(id) ON DELETE CASCADE,"
	"  prompt_set TEXT NOT NULL,"
	"  tokens_json TEXT,"
	"  logits_digest TEXT,"
	"  metrics_json TEXT,"
	"  at TEXT NOT NULL,"
	"  CHECK((snapshot IS NULL) <> (artifact IS NULL))"
	");"

	"CREATE TABLE keys("
	"  key_id TEXT PRIMARY KEY,"
	"  algorithm TEXT NOT NULL,"
	"  public_pem TEXT NOT NULL,"
	"  trust TEXT NOT NULL CHECK(trust IN ('own', 'trusted', 'untrusted')),"
	"  created_at TEXT NOT NULL"
	");"
	"CREATE TABLE signatures("
	"  id INTEGER PRIMARY KEY,"
	"  snapshot INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,"
	"  key_id TEXT REFERENCES keys(key_id),"
	"  bundle_blob TEXT NOT NULL REFERENCES blobs(sha256),"
	"  verified_at TEXT"
	");"
	"CREATE INDEX signatures_by_blob ON signatures(bundle_blob);"

	"CREATE TABLE tensors("
	"  blob TEXT NOT NULL REFERENCES blobs(sha256) ON DELETE CASCADE,"
	"  name TEXT NOT NULL,"
	"  dtype TEXT NOT NULL,"
	"  shape TEXT NOT NULL,"
	"  offset INTEGER NOT NULL,"
	"  nbytes INTEGER NOT NULL,"
	"  sha256 TEXT NOT NULL,"
	"  PRIMARY KEY(blob, name)"
	");"
	"CREATE INDEX tensors_by_sha256 ON tensors(sha256);";

/* Version 2: what a pull needs. The hub's answer for each file is kept as it arrives (an
 * interrupted pull keeps the evidence of what it verified), and blobs can be found by git
 * blob id, which is all the Hub lists for small files. */
static const char v2[] =
	"ALTER TABLE files ADD COLUMN evidence_json TEXT;"
	"CREATE INDEX blobs_by_git_sha1 ON blobs(git_sha1) WHERE git_sha1 IS NOT NULL;";

/* Version 3: signatures. Keys get the name users type (arca key ...); a key row is also
 * how a trusted root certificate is kept (algorithm "x509"). A signature belongs to a
 * snapshot or to one of its variants, says where it came from (signed here, came with a
 * pull, checked from a file), what its check found, and who signed. */
static const char v3[] =
	"ALTER TABLE keys ADD COLUMN name TEXT;"
	"CREATE UNIQUE INDEX keys_by_name ON keys(name) WHERE name IS NOT NULL;"
	"ALTER TABLE signatures ADD COLUMN artifact INTEGER REFERENCES artifacts(id) "
	"ON DELETE CASCADE;"
	"ALTER TABLE signatures ADD COLUMN source TEXT;"
	"ALTER TABLE signatures ADD COLUMN state TEXT;"
	"ALTER TABLE signatures ADD COLUMN signer TEXT;"
	"ALTER TABLE signatures ADD COLUMN details_json TEXT;"
	"ALTER TABLE signatures ADD COLUMN created_at TEXT;"
	"CREATE INDEX signatures_by_snapshot ON signatures(snapshot, artifact);";

/* Version 4: the tensor index (convert/tensor_index.c fills it). Each tensor row gains its
 * element count, a few statistics of its values and a fixed-size sketch (little-endian
 * float32s whose cosine estimates the tensors' cosine); NULL statistics mean a dtype arca
 * cannot decode (the row still has its bytes' hash). tensor_index says which blobs were
 * indexed, as what, and with which index version, so a changed sketch can re-index. */
static const char v4[] =
	"ALTER TABLE tensors ADD COLUMN n_elements INTEGER;"
	"ALTER TABLE tensors ADD COLUMN mean REAL;"
	"ALTER TABLE tensors ADD COLUMN std REAL;"
	"ALTER TABLE tensors ADD COLUMN rms REAL;"
	"ALTER TABLE tensors ADD COLUMN l2 REAL;"
	"ALTER TABLE tensors ADD COLUMN min REAL;"
	"ALTER TABLE tensors ADD COLUMN max REAL;"
	"ALTER TABLE tensors ADD COLUMN zero_frac REAL;"
	"ALTER TABLE tensors ADD COLUMN sketch BLOB;"
	"CREATE TABLE tensor_index("
	"  blob TEXT PRIMARY KEY REFERENCES blobs(sha256) ON DELETE CASCADE,"
	"  format TEXT NOT NULL CHECK(format IN ('safetensors', 'gguf')),"
	"  version INTEGER NOT NULL,"
	"  n_tensors INTEGER NOT NULL,"
	"  indexed_at TEXT NOT NULL"
	") WITHOUT ROWID;";

/* Version 5: a whole-file sketch per indexed blob (store/catalog_tensors.c makes it from the
 * tensor rows), so that a scan compares a model with thousands of stored ones by reading
 * one row each. NULL for blobs indexed before: it is made from their rows when read. */
static const char v5[] =
	"ALTER TABLE tensor_index ADD COLUMN file_sketch BLOB;"
	"ALTER TABLE tensor_index ADD COLUMN file_norm2 REAL;"
	"ALTER TABLE tensor_index ADD COLUMN n_matrices INTEGER;";

const char *const arca__migrations[] = { v1, v2, v3, v4, v5 };
const size_t arca__n_migrations = sizeof(arca__migrations) / sizeof(arca__migrations[0]);
