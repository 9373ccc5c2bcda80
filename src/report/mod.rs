//! TODO(owner): report rendering.
