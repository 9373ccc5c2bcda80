//! TODO(owner): synthetic data generator.
