"""Wire types shared by node and coordinator: .proto sources and their generated Python."""
