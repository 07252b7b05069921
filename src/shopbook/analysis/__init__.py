"""shopbook.analysis"""
