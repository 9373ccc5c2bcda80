//! The one orchestrator: ingest, analyses, collect, write.
