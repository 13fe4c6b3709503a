self.pipelineQuickData={"fullBytes":9100,"index":null,"version":1};
