"""The runner, the chat loop and the image façade: the surfaces that run calls."""
