//! TODO(owner): SQL over every table.
